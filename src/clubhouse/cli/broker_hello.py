"""Does an address speak Kafka? One ApiVersions request over a plain socket, and its framing.

librdkafka connects to anything and retries: a port that answers HTTP showed up only after
ten seconds, as ``Invalid response size 1213486160`` (``HTTP`` read as a size prefix). Every
Kafka broker answers ApiVersions, of any version, before authentication, with a size prefix
and the request's correlation id; that is all this checks.
"""

from __future__ import annotations

import socket
import struct
import time

_API_VERSIONS = 18
# Kafka echoes any correlation id. This one reads "\r\n\r\n", the end of an HTTP request's
# head: an HTTP server then answers at once, instead of waiting for a line that never ends.
_CORRELATION_ID = 0x0D0A0D0A
_CLIENT_ID = b"clubhouse-probe"
# An ApiVersions answer lists some ninety APIs in a few hundred bytes.
_MAX_REPLY_BYTES = 1 << 20
CANNOT_CONNECT = "cannot connect"
_WEB_HINT = "(a web server, or a registry's port?)"


def api_versions_request() -> bytes:
    """A size-prefixed ApiVersions v0 request (request header v1, empty body)."""
    header = struct.pack(">hhih", _API_VERSIONS, 0, _CORRELATION_ID, len(_CLIENT_ID))
    return struct.pack(">i", len(header) + len(_CLIENT_ID)) + header + _CLIENT_ID


def not_kafka(reply: bytes) -> str | None:
    """What the first bytes of an answer say the server is, when it is not Kafka; else None.

    Silence and a TLS record are not judged: an SSL listener cannot read a plain request,
    and the Kafka client does the handshake the probe cannot.
    """
    if not reply or (reply[0] in (0x15, 0x16) and reply[1:2] == b"\x03"):
        return None
    if len(reply) >= 8:
        size, correlation_id = struct.unpack(">ii", reply[:8])
        if 4 <= size <= _MAX_REPLY_BYTES and correlation_id == _CORRELATION_ID:
            return None
    # An HTTP/1.x server answers with a status line; one that takes the request for HTTP/0.9
    # (Python's http.server does) sends its error page alone.
    if reply.startswith(b"HTTP/"):
        return f"answered with HTTP, not Kafka {_WEB_HINT}"
    if reply.lstrip().startswith(b"<"):
        return f"answered with HTML, not Kafka {_WEB_HINT}"
    if all(32 <= byte < 127 or byte in b"\t\r\n" for byte in reply):
        return "answered with text, not Kafka"
    return "answered, but not with Kafka's protocol"


def broker_answers(host: str, port: int, timeout: float) -> str | None:
    """None when ``host:port`` may be a Kafka broker, within ``timeout`` in all; else why not."""
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        return f"{CANNOT_CONNECT} ({exc.strerror or exc})"
    reply = b""
    with sock:
        try:
            sock.sendall(api_versions_request())
            while len(reply) < 8:
                sock.settimeout(max(deadline - time.monotonic(), 0.01))
                chunk = sock.recv(8 - len(reply))
                if not chunk:
                    break
                reply += chunk
        except OSError:
            pass  # a timeout or a reset: judged on what arrived before it
    return not_kafka(reply)
