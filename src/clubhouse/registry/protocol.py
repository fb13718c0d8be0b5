"""Connection-level limits for the registry's HTTP server, on top of uvicorn's httptools protocol.

uvicorn alone has no header size limit with httptools, never times out a connection that
has not sent a complete request, and its ``limit_concurrency`` counts idle connections
against the request limit. This protocol adds, per connection:

* a cap on the request head (request line and headers): past it, 431 and close;
* a deadline for the head to arrive (from connect, or from the first byte of a kept-alive
  request) and one for the body: past either, 408 and close;
* a cap on open connections: one more gets 503 and is closed at once, so file descriptors
  stay well below the process limit;
* a request that is not valid HTTP/1.1 (among them the request-smuggling shapes: both
  Content-Length and Transfer-Encoding, or two Content-Lengths) gets 400 and close, in
  Confluent's JSON rather than uvicorn's plain text.

Every refusal is Confluent's error JSON and is logged at DEBUG only, so a flood of them is
not a flood of log lines. Keep-alive idling is uvicorn's own ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from clubhouse.registry.guards import error_body

DEFAULT_MAX_HEADER_BYTES = 16 * 1024
DEFAULT_HEADER_TIMEOUT_S = 10.0
DEFAULT_BODY_TIMEOUT_S = 30.0
DEFAULT_MAX_CONNECTIONS = 1000

_REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What one connection may send and how long it may take, and how many may be open."""
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    max_connections: int = DEFAULT_MAX_CONNECTIONS


def _raw_error(status: int, message: str) -> bytes:
    body = error_body(status, message)
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/vnd.schemaregistry.v1+json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % (status, _REASONS[status], len(body))
    )
    return head + body


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of :class:`ConnectionLimits`.

    uvicorn builds one protocol per connection from a class, so the limits travel on a
    subclass made by :meth:`with_limits`.
    """

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    @classmethod
    def with_limits(cls, limits: ConnectionLimits) -> type[LimitedHttpProtocol]:
        """A subclass of this protocol that enforces ``limits``."""
        return type("LimitedHttpProtocol", (cls,), {"limits": limits})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = self.limits
        self._in_head = True
        self._head_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None

    # ---- deadlines ------------------------------------------------------------------------

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, what: str) -> None:
        self._deadline = None
        timeout = (
            self._limits.header_timeout_s if what == "headers" else self._limits.body_timeout_s
        )
        self._refuse(408, f"The request {what} did not arrive within {timeout:g} s.")

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` unless a response is under way, then close the connection."""
        if self.transport is None or self.transport.is_closing():
            return
        self.logger.debug("registry connection refused", extra={"status": status, "why": message})
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self.transport.write(_raw_error(status, message))
        self.transport.close()

    # ---- uvicorn's protocol hooks ---------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Refuse the connection with 503 over the limit, else start the header clock."""
        super().connection_made(transport)
        if len(self.connections) > self._limits.max_connections:
            self._refuse(
                503,
                f"The registry has {self._limits.max_connections} connections open; retry shortly.",
            )
            return
        self._arm(self._limits.header_timeout_s, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the timer, then close as usual."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed ``data`` on; 431 once the request line and headers pass their limit."""
        if not self._in_head:
            super().data_received(data)
            return
        room = self._limits.max_header_bytes - self._head_bytes
        if len(data) <= room:
            self._head_bytes += len(data)
            super().data_received(data)
            return
        # Feed only what still fits; if the head has not ended by then, it is too large.
        # The rest (a body, or a pipelined request) goes through this check again.
        self._head_bytes += room
        super().data_received(data[:room])
        if self.transport.is_closing():
            return
        if self._in_head:
            self._refuse(
                431,
                f"The request line and headers exceed this registry's limit of "
                f"{self._limits.max_header_bytes} bytes.",
            )
            return
        self.data_received(data[room:])

    def send_400_response(self, msg: str) -> None:
        """Refuse a request the parser rejected with 400 in Confluent's JSON, then close."""
        # uvicorn calls this inside its ``except HttpParserError`` clause, which is the only
        # place the parser's reason (e.g. "Duplicate Content-Length") is still at hand.
        reason = sys.exc_info()[1]
        if isinstance(reason, httptools.HttpParserError) and str(reason):
            message = f"The request is not valid HTTP/1.1: {reason}."
        else:
            message = f"The request is not valid HTTP/1.1: {msg}"
        self._refuse(400, message)

    def on_message_begin(self) -> None:
        """Start counting header bytes and, if not already running, the header clock."""
        super().on_message_begin()
        self._in_head = True
        if self._deadline is None:
            self._arm(self._limits.header_timeout_s, "headers")

    def on_headers_complete(self) -> None:
        """Stop the header clock; start the body clock when a body follows."""
        self._in_head = False
        self._disarm()
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.more_body:
            self._arm(self._limits.body_timeout_s, "body")

    def on_message_complete(self) -> None:
        """Stop the clock and get ready for the next request's headers."""
        self._disarm()
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0
