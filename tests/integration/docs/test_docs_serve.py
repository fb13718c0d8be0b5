"""``clubhouse docs serve`` as a process: it prints its URL and serves the pages there."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def served() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "clubhouse.cli.main", "docs", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PATH": "/usr/bin:/bin", "SCHEMA_REGISTRY_URL": ""},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the socket listens
        if not line:
            pytest.fail(f"docs serve exited: {proc.stderr.read() if proc.stderr else ''}")
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_serves_the_pages_on_loopback(served: str) -> None:
    assert served.startswith("http://127.0.0.1:")
    deadline = time.monotonic() + 15
    while True:
        try:
            page = httpx.get(served, timeout=2)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert page.status_code == 200 and "CreateAgentCommand" in page.text
    assert httpx.get(served + "asyncapi.yaml").text.startswith("asyncapi: 3.0.0")
    assert "## ProcessMessageCommand" in httpx.get(served + "messages.md").text
