"""How request paths reach the router: encoded slashes stay in their segment, one trailing
slash is ignored.

Confluent accepts any subject string, so ``/subjects/team%2Forders/versions`` names the
subject ``team/orders``. The ASGI server hands the router a *decoded* path, in which that
slash would split the segment and match no route; routing therefore starts again from
``raw_path``. Each segment is decoded, then only ``%`` and ``/`` are encoded again, so the
router sees one segment per subject and :func:`path_param` gets the exact string back.

Confluent's clients differ on trailing slashes (``/config/``, ``/subjects/``), and some do not
follow redirects, so both spellings are served instead of answering 307.
"""

from __future__ import annotations

from urllib.parse import unquote, unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send


def _segment(raw: bytes) -> str:
    text = unquote_to_bytes(raw).decode("utf-8", errors="replace")
    return text.replace("%", "%25").replace("/", "%2F")


def routing_path(scope: Scope) -> str:
    """The path to route on: raw segments decoded, with ``%`` and ``/`` kept encoded."""
    raw = scope.get("raw_path")
    if raw is None:
        path = str(scope["path"])  # no raw form: an encoded slash cannot be told apart
    else:
        path = "/".join(_segment(part) for part in bytes(raw).split(b"?", 1)[0].split(b"/"))
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


def path_param(request: Request, name: str) -> str:
    """A path parameter as the client meant it (``team%2Forders`` gives ``team/orders``)."""
    return unquote(str(request.path_params[name]))


def optional_path_param(request: Request, name: str) -> str | None:
    """Like :func:`path_param`, for routes that exist with and without the parameter."""
    return path_param(request, name) if name in request.path_params else None


class RawPathMiddleware:
    """Replace the decoded ``path`` by :func:`routing_path` before any route is matched."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "path": routing_path(scope)}
        await self._app(scope, receive, send)
