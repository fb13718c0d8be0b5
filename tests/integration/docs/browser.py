"""A minimal headless-Chromium driver over the DevTools protocol, for the docs page tests.

It starts Debian's ``chromium`` with its own throw-away profile, talks CDP over the page's
WebSocket (``websockets``' sync client), and stops the browser it started. Only what the tests
need: navigate, evaluate JavaScript, type text, size the window and take a screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
)


class BrowserError(RuntimeError):
    """Chromium did not start, or a DevTools call failed; the message says which."""


def find_chromium() -> str | None:
    """The chromium executable on PATH, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """One headless Chromium process with one page."""

    def __init__(self, executable: str, profile: Path, *, timeout_s: float = 20.0) -> None:
        self._timeout = timeout_s
        self._ids = itertools.count(1)
        self._stack = ExitStack()  # owns the WebSocket connection
        profile.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port = self._devtools_port(profile / "DevToolsActivePort")
            self._ws = self._stack.enter_context(
                connect(self._page_socket(port), max_size=None, open_timeout=timeout_s)
            )
        except BaseException:
            self.close()
            raise

    def _devtools_port(self, marker: Path) -> int:
        # Chromium writes the port it picked for --remote-debugging-port=0 into the profile.
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrowserError(f"chromium exited with {self._proc.returncode} at start-up")
            lines = marker.read_text().splitlines() if marker.exists() else []
            if lines and lines[0].strip().isdigit():
                return int(lines[0])
            time.sleep(0.05)
        raise BrowserError(f"chromium did not write {marker} within {self._timeout} s")

    def _page_socket(self, port: int) -> str:
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.05)
        raise BrowserError("chromium opened no page target")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events are skipped)."""
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + self._timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no answer to {method} within {self._timeout} s")
            reply = json.loads(self._ws.recv(timeout=left))
            if reply.get("id") != msg_id:
                continue
            if "error" in reply:
                raise BrowserError(f"{method} failed: {reply['error']}")
            return dict(reply.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serialisable values)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)  # fmt: skip
        if "exceptionDetails" in result:
            raise BrowserError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        """Navigate to ``url`` and wait until the document has loaded."""
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        # Until the new document replaces about:blank, the old one may report "complete".
        base = re.split(r"[?#]", url, maxsplit=1)[0]
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            state = self.evaluate("[document.readyState, location.href]")
            if state[0] == "complete" and str(state[1]).startswith(base):
                return
            time.sleep(0.05)
        raise BrowserError(f"{url} did not finish loading within {self._timeout} s")

    def resize(self, width: int, height: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip

    def type_text(self, text: str) -> None:
        """Type into the focused element, as a keyboard would (fires input events)."""
        self.call("Input.insertText", text=text)

    def press(self, key: str, code: str, key_code: int) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=code,
                      windowsVirtualKeyCode=key_code)  # fmt: skip

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self._stack.close()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
