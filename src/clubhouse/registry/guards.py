"""ASGI guards around the registry app: Confluent-shaped errors, and a cap on requests in flight.

Every answer the registry gives is ``{"error_code", "message"}`` JSON, including the ones no
handler planned for: an unexpected exception becomes HTTP 500 with ``error_code`` 50001 (as
Confluent answers) and a fixed message, while the traceback goes to the log only. Past the
in-flight cap a request gets 503 at once instead of waiting in a queue without bound.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clubhouse.logging_setup import one_line
from clubhouse.registry.errors import ErrorCode

log = logging.getLogger(__name__)

SR_V1 = b"application/vnd.schemaregistry.v1+json"
INTERNAL_ERROR_MESSAGE = "Internal server error; the registry's log has the details."
DEFAULT_MAX_IN_FLIGHT = 256


def error_body(error_code: int, message: str) -> bytes:
    """A Confluent error body, ``{"error_code": ..., "message": ...}``, as JSON bytes."""
    return json.dumps({"error_code": error_code, "message": message}).encode("utf-8")


async def send_error(
    send: Send,
    status: int,
    error_code: int,
    message: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Answer with Confluent's error JSON; ``headers`` are added to the content headers."""
    body = error_body(error_code, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", SR_V1),
                (b"content-length", str(len(body)).encode("ascii")),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class InternalErrorMiddleware:
    """Turn any exception that escapes the app into a Confluent 500 (50001), never its text."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, receive, tracking_send)
        except ClientDisconnect:
            log.debug("registry client left before its request was read")
        except Exception:
            # The boundary of the request: whatever failed, this request is over; the client
            # gets a clean 500 and the server goes on serving the others.
            log.exception(
                "registry request failed unexpectedly",
                extra={
                    "method": scope.get("method", "?"),
                    "path": one_line(scope.get("path", ""), 200),
                },
            )
            if not started:
                await send_error(send, 500, ErrorCode.STORE_ERROR, INTERNAL_ERROR_MESSAGE)


class InFlightLimitMiddleware:
    """Answer 503 (with Retry-After) once ``max_in_flight`` requests are already being served."""

    def __init__(self, app: ASGIApp, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> None:
        self._app = app
        self._max = max_in_flight
        self._in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if self._in_flight >= self._max:
            log.debug("registry request refused: too many in flight", extra={"limit": self._max})
            await send_error(
                send,
                503,
                503,
                f"The registry is busy ({self._max} requests in flight); retry shortly.",
                [(b"retry-after", b"1")],
            )
            return
        self._in_flight += 1
        try:
            await self._app(scope, receive, send)
        finally:
            self._in_flight -= 1
