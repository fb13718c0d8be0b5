"""Serve the rendered pages over HTTP for browsing: ``/`` is the HTML page.

The pages are rendered once, before the server starts, and held in memory.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from clubhouse.docs.errors import DocsError
from clubhouse.docs.site import CONTENT_TYPES


def docs_app(site: Mapping[str, str]) -> Starlette:
    """A read-only app serving ``site`` (file name -> content)."""
    pages = {name: content.encode("utf-8") for name, content in site.items()}

    async def page(request: Request) -> Response:
        name = request.path_params.get("name", "index.html")
        body = pages.get(name)
        if body is None:
            known = ", ".join(f"/{n}" for n in pages)
            return PlainTextResponse(f"no page {name!r}; try one of {known}", status_code=404)
        return Response(body, media_type=CONTENT_TYPES.get(name, "text/plain; charset=utf-8"))

    return Starlette(routes=[Route("/", page), Route("/{name:str}", page)])


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0 picks a free port); says which on failure."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise DocsError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def serve_docs(
    site: Mapping[str, str],
    sock: socket.socket,
    *,
    on_ready: Callable[[str], None] = lambda _url: None,
) -> None:
    """Serve ``site`` on the listening ``sock`` until interrupted (Ctrl-C or SIGTERM).

    The socket is bound by the caller (see ``listen``) so that the URL, port 0 included, is
    known before the server starts; ``on_ready`` receives it.
    """
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    on_ready(f"http://{shown}:{port}/")
    config = uvicorn.Config(docs_app(site), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
