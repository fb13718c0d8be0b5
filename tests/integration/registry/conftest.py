"""A real registry server process on a free loopback port, for the integration tests.

``start_registry`` runs ``python -m clubhouse.registry serve --port 0`` on a database file,
reads the URL the server logs once it listens, waits until ``GET /subjects`` answers, and
kills every process it started when the test ends.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

_URL = re.compile(r"schema registry listening url=(http://\S+)")


@dataclass
class RegistryProcess:
    db: Path
    log: Path
    proc: subprocess.Popen[bytes]
    url: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def client(self, **conf: object) -> SchemaRegistryClient:
        """A fresh confluent client (they cache, so each check of server state needs one)."""
        return SchemaRegistryClient({"url": self.url, **conf})

    def http(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0, **kwargs)  # type: ignore[arg-type]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=15)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=15)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def launch(db: Path, log: Path, *args: str, env: dict[str, str] | None = None) -> RegistryProcess:
    """Start a server without waiting for it (for tests of start-up failures)."""
    full_env = {**os.environ, **(env or {})}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clubhouse.registry",
                "serve",
                "--port",
                "0",
                "--db",
                str(db),
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    return RegistryProcess(db=db, log=log, proc=proc, env=env or {})


def wait_ready(server: RegistryProcess, timeout_s: float = 20.0) -> RegistryProcess:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(
                f"registry exited with {server.proc.returncode}:\n{server.output()}"
            )
        match = _URL.search(server.output())
        if match:
            server.url = match.group(1)
            try:
                httpx.get(f"{server.url}/subjects", timeout=2.0)
            except httpx.TransportError:
                pass
            else:
                return server
        time.sleep(0.05)
    server.kill()
    raise AssertionError(f"registry not ready after {timeout_s}s:\n{server.output()}")


StartRegistry = Callable[..., RegistryProcess]


@pytest.fixture
def start_registry(tmp_path: Path) -> Iterator[StartRegistry]:
    started: list[RegistryProcess] = []
    counter = iter(range(1000))

    def start(
        db: Path | None = None, *args: str, env: dict[str, str] | None = None
    ) -> RegistryProcess:
        n = next(counter)
        server = launch(
            db or tmp_path / f"registry-{n}.db", tmp_path / f"server-{n}.log", *args, env=env
        )
        started.append(server)
        return wait_ready(server)

    yield start
    for server in started:
        server.kill()


@pytest.fixture(scope="module")
def shared_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    """One server for a whole module; tests keep to their own subjects."""
    directory = tmp_path_factory.mktemp("shared-registry")
    server = wait_ready(launch(directory / "registry.db", directory / "server.log"))
    yield server
    server.kill()


@pytest.fixture
def subject(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Subject names unique to the test, so tests can share one server."""
    prefix = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[-60:]
    return lambda name="value": f"{prefix}-{name}"
