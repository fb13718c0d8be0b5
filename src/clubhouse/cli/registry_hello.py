"""Does an address answer as a schema registry? One ``GET …/subjects`` over a plain socket.

Only the status line and the headers are read. A registry answers JSON, even for its errors;
a web server at the URL answers its own HTML, which the registry clients would otherwise
show as raw bytes after their retries. An answer the probe cannot judge without what the
client has (credentials, patience) is left to the client.
"""

from __future__ import annotations

import socket
import time

from clubhouse.cli.broker_hello import CANNOT_CONNECT

# 401/403/407: a proxy asking for credentials, whatever its page looks like. 502/503/504: a
# proxy whose registry is not up yet, which --registry-wait is there to wait for.
_LEFT_TO_THE_CLIENT = frozenset({401, 403, 407, 502, 503, 504})
_MAX_HEAD_BYTES = 16 * 1024


def _request(host: str, path: str) -> bytes:
    target = path.rstrip("/") + "/subjects"
    return (
        f"GET {target} HTTP/1.0\r\nHost: {host}\r\n"
        "Accept: application/vnd.schemaregistry.v1+json, application/json\r\n\r\n"
    ).encode()


def _read_head(sock: socket.socket, deadline: float) -> bytes:
    """The answer up to the end of its headers, or what came of it before EOF or the deadline."""
    head = b""
    while b"\r\n\r\n" not in head and len(head) < _MAX_HEAD_BYTES:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            if head:
                break
            raise
        if not chunk:
            break
        head += chunk
    return head


def not_a_registry(head: bytes, target: str) -> str | None:
    """Why the HTTP answer ``head`` (to ``GET target``) is not a registry's; None if it may be."""
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    words = lines[0].split()
    if len(words) < 2 or not words[1].isdigit():
        return None  # a status line cut short: the client will see the rest
    status = int(words[1])
    content_type = ""
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-type":
            content_type = value.strip()
    if status in _LEFT_TO_THE_CLIENT or not content_type or "json" in content_type.lower():
        return None
    return (
        f"not a schema registry (GET {target} answered HTTP {status}, content type {content_type})"
    )


def registry_answers(host: str, port: int, path: str, timeout: float) -> str | None:
    """None if ``host:port`` answers as a registry may, within ``timeout`` in all; else why not."""
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        return f"{CANNOT_CONNECT} ({exc.strerror or exc})"
    with sock:
        try:
            sock.sendall(_request(host, path))
            head = _read_head(sock, deadline)
        except TimeoutError:
            return (
                f"it accepted the connection but sent no HTTP reply within {timeout:g} s "
                "(is this a Kafka broker's port?)"
            )
        except OSError as exc:
            return f"the connection failed ({exc.strerror or exc})"
    if not head.startswith(b"HTTP"):
        return "it answered, but not with HTTP (is this a Kafka broker's port?)"
    return not_a_registry(head, path.rstrip("/") + "/subjects")
