"""A real embedded registry process per test, started through the shared dev-stack code."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


RegistryFactory = Callable[..., str]


@pytest.fixture
def start_registry(tmp_path: Path) -> Iterator[RegistryFactory]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(*extra: str) -> str:
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "clubhouse.registry", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--db", str(tmp_path / f"registry-{port}.db"), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/subjects", timeout=1)
                return url
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "") from None
                time.sleep(0.05)
        raise RuntimeError("registry did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def registry_url(start_registry: RegistryFactory) -> str:
    return start_registry()
