"""Run the registry under uvicorn: bind, log the URL, serve, stop cleanly on SIGINT/SIGTERM.

Without credentials the server refuses to listen on anything but a loopback address unless
the caller explicitly allows remote access: an open registry on a network lets anyone
rewrite the contracts every producer and consumer depends on.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import resource
import signal
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

import avro.errors
import uvicorn

from clubhouse.errors import ClubhouseError
from clubhouse.registry.api import DEFAULT_MAX_BODY_BYTES, create_app
from clubhouse.registry.auth import BasicAuth
from clubhouse.registry.canonical import DEFAULT_MAX_FIELDS
from clubhouse.registry.guards import DEFAULT_MAX_IN_FLIGHT
from clubhouse.registry.protocol import ConnectionLimits, LimitedHttpProtocol
from clubhouse.registry.service import Registry
from clubhouse.registry.store import Store

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
DEFAULT_DB = Path(".clubhouse/registry.db")
DEFAULT_KEEP_ALIVE_S = 5
# asyncio accepts up to this many connections in one go before any of them can be refused,
# so it is also the listen queue; waiting clients beyond it wait in the kernel, not here.
_ACCEPT_BACKLOG = 128
# Descriptors kept free: a refused connection is closed only a loop turn or two after its
# 503 is written, so several accept bursts can be open at once under a flood (measured: one
# burst of reserve was not enough at 400 clients and ``ulimit -n 300``); plus the database,
# the logs and the listening socket.
_FD_RESERVE = 2 * _ACCEPT_BACKLOG + 64


class ServerConfigError(ClubhouseError):
    """The server cannot start with the given settings; the message says which and why."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Everything the registry server needs: address, database, credentials and limits."""
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: Path = DEFAULT_DB
    credentials: dict[str, str] | None = None
    allow_remote: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    keep_alive_timeout_s: int = DEFAULT_KEEP_ALIVE_S
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    max_schema_fields: int = DEFAULT_MAX_FIELDS


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback IP address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(settings: ServerSettings) -> None:
    """Refuse a non-loopback bind without auth unless remote access was explicitly allowed."""
    if is_loopback(settings.host) or settings.credentials or settings.allow_remote:
        return
    raise ServerConfigError(
        f"Refusing to listen on {settings.host} without authentication: anyone who can reach it "
        "could change every schema. Use --basic-auth-file (or $CLUBHOUSE_REGISTRY_BASIC_AUTH), "
        "bind to 127.0.0.1, or pass --allow-remote if the network is trusted."
    )


def fitted_limits(limits: ConnectionLimits, fd_limit: int) -> ConnectionLimits:
    """``limits`` with ``max_connections`` lowered to fit under the process's descriptor limit.

    Past that limit accept() fails, asyncio logs every failure, and nobody gets served; a
    connection cap below it refuses the extra clients cleanly instead.
    """
    room = max(fd_limit - _FD_RESERVE, 1)
    if limits.max_connections <= room:
        return limits
    log.warning(
        "registry connection limit lowered to fit the open-file limit",
        extra={"asked": limits.max_connections, "max_connections": room, "nofile": fd_limit},
    )
    return replace(limits, max_connections=room)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0 picks a free one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServerConfigError(f"Cannot resolve host {host!r}: {exc.strerror}.") from None
    family, kind, proto, _, address = infos[0]
    # The protocol number matters: asyncio turns Nagle off (TCP_NODELAY) only on accepted
    # sockets whose listener says IPPROTO_TCP; with proto 0 every keep-alive response
    # waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServerConfigError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The ``http://host:port`` URL of the bound socket ``sock``."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def _serve(server: uvicorn.Server, sock: socket.socket, url: str) -> None:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        log.info("schema registry listening", extra={"url": url})
    await task


@contextmanager
def _stop_signals_end_quietly() -> Iterator[list[int]]:
    """Make SIGINT/SIGTERM end the process normally once uvicorn has shut down.

    uvicorn handles both signals while it serves, then re-raises each one it caught so the
    previous handler runs. The previous handler is this no-op, so the process finishes its
    own clean-up (closing the database) and exits 0 instead of dying with the signal.
    """
    received: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _DropColorMessage(logging.Filter):
    """uvicorn attaches an ANSI-coloured copy of some messages; structured logs need only one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


class _QuietRefusals(logging.Filter):
    """uvicorn warns once per malformed request; a flood of them is DEBUG noise, not news."""

    _MESSAGES = frozenset({"Invalid HTTP request received.", "Exceeded concurrency limit."})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.msg in self._MESSAGES:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def serve(settings: ServerSettings) -> None:
    """Serve until SIGINT or SIGTERM; returns after a graceful shutdown."""
    check_bind(settings)
    logging.getLogger("uvicorn.error").addFilter(_DropColorMessage())
    logging.getLogger("uvicorn.error").addFilter(_QuietRefusals())
    # The avro package warns on every schema with an unknown logical type; those schemas are
    # valid (readers fall back to the underlying type), so the warning is noise here.
    warnings.filterwarnings("ignore", category=avro.errors.IgnoredLogicalType)
    sock = bind(settings.host, settings.port)  # first, so a busy port creates no database
    url = url_of(sock)
    try:
        store = Store(settings.db)
    except BaseException:
        sock.close()
        raise
    try:
        auth = BasicAuth(settings.credentials) if settings.credentials else None
        app = create_app(
            Registry(store, max_schema_fields=settings.max_schema_fields),
            auth=auth,
            max_body_bytes=settings.max_body_bytes,
            max_in_flight=settings.max_in_flight,
        )
        limits = fitted_limits(settings.limits, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                http=LimitedHttpProtocol.with_limits(limits),
                timeout_keep_alive=settings.keep_alive_timeout_s,
                backlog=_ACCEPT_BACKLOG,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=10,
                server_header=False,
            )
        )
        log.info(
            "starting schema registry",
            extra={"db": str(settings.db), "auth": auth is not None, "url": url},
        )
        with _stop_signals_end_quietly() as received:
            asyncio.run(_serve(server, sock, url))
        if received:
            log.info(
                "schema registry stopping on signal",
                extra={"signal": signal.Signals(received[0]).name},
            )
    finally:
        store.close()
        sock.close()
    log.info("schema registry stopped", extra={"db": str(settings.db)})
