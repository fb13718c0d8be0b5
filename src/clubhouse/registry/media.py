"""Media types and bodies: Accept negotiation, Content-Type checks, charsets, size limits.

Confluent's registry answers ``application/vnd.schemaregistry.v1+json`` unless a client asks
for ``application/vnd.schemaregistry+json`` or plain JSON, and refuses other types with the
bare status line ("HTTP 406 Not Acceptable", "HTTP 415 Unsupported Media Type"). Every JSON
answer, errors included, is built here so it carries the negotiated type.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from clubhouse.registry.errors import ApiError, ErrorCode

SR_V1 = "application/vnd.schemaregistry.v1+json"
SR_ANY = "application/vnd.schemaregistry+json"
JSON = "application/json"
_BODY_TYPES = frozenset({SR_V1, SR_ANY, JSON, "application/octet-stream"})
# A body above the limit is still read and discarded up to this size, so the client gets
# a clean 413 instead of a reset connection; beyond it the connection is simply closed.
_DRAIN_LIMIT = 64 * 1024 * 1024


def media_type(request: Request) -> str:
    """The response type the client accepts: Confluent's own unless it asked for plain JSON."""
    accept = request.headers.get("accept")
    if not accept:
        return SR_V1
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *options = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for option in options:
            key, _, value = option.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, media.lower()))
    for _, _, media in sorted(ranked):
        # A bare "*" and any "*/..." are wildcards too, as in Confluent's (Jersey's) matching.
        if media in (SR_V1, "*", "application/*") or media.startswith("*/"):
            return SR_V1
        if media in (SR_ANY, JSON):
            return media
    # Confluent's REST layer answers with the bare status line, which clients compare.
    raise ApiError(406, ErrorCode.NOT_ACCEPTABLE, "HTTP 406 Not Acceptable")


class AcceptCheckMiddleware:
    """Answer 406 before any handler runs (and possibly writes) when no answer type fits."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            try:
                media_type(request)
            except ApiError as exc:
                response = error_response(request, exc.status, exc.error_code, exc.message)
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


def json_response(request: Request, data: Any, status: int = 200) -> Response:
    """``data`` as compact JSON, in the media type the request accepts."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    try:
        answered = media_type(request)
    except ApiError:
        answered = SR_V1  # an error about Accept itself still needs a body
    return Response(body, status_code=status, media_type=answered)


def error_response(request: Request, status: int, error_code: int, message: str) -> Response:
    """A Confluent error body with ``status``, ``error_code`` and ``message``."""
    return json_response(request, {"error_code": error_code, "message": message}, status)


def _charset(content_type_header: str) -> str | None:
    """The ``charset`` parameter of a Content-Type header, if any."""
    for option in content_type_header.split(";")[1:]:
        key, _, value = option.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower() or None
    return None


def _as_utf8(body: bytes, charset: str | None) -> bytes:
    """The body re-encoded as UTF-8 when the client declared another charset."""
    if charset is None or charset.replace("-", "").replace("_", "") == "utf8":
        return body
    try:
        return body.decode(charset).encode("utf-8")
    except LookupError:
        raise ApiError(
            415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"Unknown charset {charset!r} in Content-Type."
        ) from None
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, ErrorCode.BAD_REQUEST, f"The request body is not valid {charset} ({exc})."
        ) from None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body as UTF-8 bytes; 415 for a wrong content type, 413 over ``limit``."""
    header = request.headers.get("content-type", "")
    content_type = header.split(";")[0].strip().lower()
    if content_type and content_type not in _BODY_TYPES:
        raise ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "HTTP 415 Unsupported Media Type")
    too_large = ApiError(
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"The request body is larger than this registry's limit of {limit} bytes.",
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        size_declared = int(declared)
        # A client that waits for "100 Continue" has sent nothing yet: answering 413 before
        # reading (reading is what makes the server send 100) spares it the upload.
        expects = request.headers.get("expect", "").strip().lower() == "100-continue"
        if size_declared > _DRAIN_LIMIT or (expects and size_declared > limit):
            raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _DRAIN_LIMIT:
            raise too_large
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise too_large
    return _as_utf8(b"".join(chunks), _charset(header))
