"""A real HTTP server on loopback that is neither a broker nor a registry: it answers every
request with an HTML page, as a web app or a proxy's error page would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = b"<!DOCTYPE HTML>\n<html><head><title>Welcome</title></head><body>Hello</body></html>\n"


class _HtmlHandler(BaseHTTPRequestHandler):
    """``status`` and an HTML page for any GET or POST."""

    status = 200

    def _answer(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output to the test's own


@contextmanager
def html_server(status: int = 200) -> Iterator[str]:
    """``127.0.0.1:port`` of a server answering ``status`` with an HTML page, while open."""
    handler = type("Handler", (_HtmlHandler,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
