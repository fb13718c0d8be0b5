"""Fixtures for the docs integration tests: a real registry process and a headless Chromium."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.docs.browser import Chromium, find_chromium


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def docs_registry_url(tmp_path: Path) -> Iterator[str]:
    """A fresh embedded registry (``python -m clubhouse.registry serve``) on a free port."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "clubhouse.registry", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--db", str(tmp_path / "registry.db")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/subjects", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"the registry exited with {proc.returncode}: {err}")
                if time.monotonic() > deadline:
                    pytest.fail(f"the registry did not answer on {url} within 20 s")
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """A headless Chromium shared by a module's tests (each opens its own page URL).

    Skips, saying why, where the chromium package is not installed.
    """
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "chromium is not installed and could not be (.ci/run installs Debian's chromium "
            "package with apt-get; run `apt-get install -y chromium` to run these tests)"
        )
    browser = Chromium(executable, tmp_path_factory.mktemp("chromium-profile"))
    try:
        browser.resize(1400, 900)
        yield browser
    finally:
        browser.close()
