"""Loopback port helpers: pick a free port, or prove that a configured one is free."""

from __future__ import annotations

import errno
import socket


def pick_free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel considers free on ``host`` right now.

    Another process can still take it before our child binds it; callers that picked the port
    themselves retry with a new one when the child reports the address in use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """Whether a listener could bind ``host:port``.

    SO_REUSEADDR makes sockets in TIME_WAIT (left by a broker we just stopped) count as free,
    as they do for the children, which set it too; only a live listener makes the bind fail.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def accepts_connections(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
