"""One embedded registry process for the evolution tests; each test works under its own prefix."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def evolution_registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m clubhouse.registry serve`` on a free port with a fresh database."""
    db: Path = tmp_path_factory.mktemp("evolution-registry") / "registry.db"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "clubhouse.registry", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--db", str(db)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                httpx.get(f"{url}/subjects", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"registry exited: {err}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("registry did not answer within 20 s") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def registry(evolution_registry_url: str) -> Iterator[ConfluentSchemaRegistry]:
    client = ConfluentSchemaRegistry.from_settings(
        RegistrySettings.from_env(evolution_registry_url)
    )
    yield client
    client.close()


@pytest.fixture
def prefix() -> str:
    """A topic prefix no other test uses, so subjects never collide on the shared registry."""
    return f"t{uuid.uuid4().hex[:10]}"
