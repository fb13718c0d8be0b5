"""The embedded schema registry (``clubhouse registry serve``) as a child process."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from clubhouse.devstack.launch import LoopbackServer, Readiness
from clubhouse.devstack.process import ProcessSpec

COMPONENT = "schema registry"


def answers_http(url: str, timeout: float = 1.0) -> bool:
    """Whether ``url`` gives any HTTP response; a 401 from an auth-protected registry counts."""
    try:
        httpx.get(url, timeout=timeout)
    except httpx.TransportError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    """How to run the registry; ``port=None`` picks a free loopback port."""

    db_path: Path
    log_path: Path
    host: str = "127.0.0.1"
    port: int | None = None
    basic_auth_file: Path | None = None
    env: Mapping[str, str] | None = None  # set for the child on top of our own environment
    python: str = sys.executable
    startup_timeout: float = 30.0
    stop_timeout: float = 10.0
    stop_signal: signal.Signals = signal.SIGTERM  # SIGINT stops it just as cleanly
    extra_args: tuple[str, ...] = ()  # more `serve` options, e.g. ("--max-connections", "50")


class RegistryServer(LoopbackServer[RegistryConfig]):
    """A registry process on a SQLite file; ``url`` is valid once ``start`` has returned."""

    component = COMPONENT

    @property
    def url(self) -> str:
        """The registry's base URL, ``http://host:port``."""
        return f"http://{self.config.host}:{self.port}"

    def start(self) -> None:
        """Start the registry and wait until ``GET /subjects`` answers."""
        self.config.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._launch(self._spec)

    def _readiness(self, port: int) -> Readiness:
        url = f"http://{self.config.host}:{port}/subjects"
        return Readiness(lambda: answers_http(url), f"GET {url}")

    def _spec(self, port: int) -> ProcessSpec:
        argv = [
            self.config.python, "-m", "clubhouse.cli.main", "registry", "serve",
            "--host", self.config.host,
            "--port", str(port),
            "--db", str(self.config.db_path),
        ]  # fmt: skip
        if self.config.basic_auth_file is not None:
            argv += ["--basic-auth-file", str(self.config.basic_auth_file)]
        argv += self.config.extra_args
        env = {**os.environ, **self.config.env} if self.config.env else None
        return ProcessSpec(
            component=COMPONENT,
            argv=tuple(argv),
            log_path=self.config.log_path,
            env=env,
            stop_signal=self.config.stop_signal,
        )
