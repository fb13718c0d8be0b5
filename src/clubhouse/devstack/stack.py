"""The dev stack: a broker (Tansu or Apache Kafka) plus the embedded registry, as one unit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from clubhouse.devstack.broker import BrokerConfig
from clubhouse.devstack.brokers import Broker, create_broker
from clubhouse.devstack.errors import DevStackError
from clubhouse.devstack.process import ManagedProcess
from clubhouse.devstack.registry import RegistryConfig, RegistryServer
from clubhouse.devstack.supervisor import Member

log = logging.getLogger(__name__)

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
REGISTRY_ENV = "SCHEMA_REGISTRY_URL"


@dataclass(frozen=True, slots=True)
class DevStackConfig:
    """Where the stack keeps its files, and which loopback ports it uses (None: free ones).

    Layout under ``data_dir``: ``registry.db``, and ``logs/broker.log`` / ``logs/registry.log``
    with each child's output. Tansu keeps its data in memory only; Kafka (``broker="kafka"``,
    ``kafka_brokers`` nodes) keeps it under ``kafka/``, wiped at each start of the stack
    unless ``keep_data``.
    """

    data_dir: Path = Path(".clubhouse")
    host: str = "127.0.0.1"
    broker_port: int | None = None
    registry_port: int | None = None
    basic_auth_file: Path | None = None
    with_registry: bool = True
    broker_binary: Path | None = None
    startup_timeout: float = 30.0
    broker: str = "tansu"  # or "kafka"
    kafka_brokers: int = 1
    keep_data: bool = False  # Kafka's topics from the last start; Tansu cannot keep any

    def create_broker(self) -> Broker:
        """A broker of the configured kind, not yet started."""
        return create_broker(
            self.broker,
            data_dir=self.data_dir,
            host=self.host,
            port=self.broker_port,
            binary=self.broker_binary,
            startup_timeout=self.startup_timeout,
            kafka_nodes=self.kafka_brokers,
            keep_data=self.keep_data,
        )

    def broker_config(self) -> BrokerConfig:
        """The Tansu broker's settings, logging under the data directory."""
        return BrokerConfig(
            log_path=self.data_dir / "logs" / "broker.log",
            host=self.host,
            port=self.broker_port,
            binary=self.broker_binary,
            startup_timeout=self.startup_timeout,
        )

    def registry_config(self) -> RegistryConfig:
        """The schema registry's settings, its database and log under the data directory."""
        return RegistryConfig(
            db_path=self.data_dir / "registry.db",
            log_path=self.data_dir / "logs" / "registry.log",
            host=self.host,
            port=self.registry_port,
            basic_auth_file=self.basic_auth_file,
            startup_timeout=self.startup_timeout,
        )


class DevStack:
    """Broker and registry as one unit; use it as a context manager.

    Starting is all-or-nothing: if the registry fails, the broker is stopped before the
    error propagates. Children are killed with this process even when it is SIGKILLed.
    """

    def __init__(
        self,
        config: DevStackConfig | None = None,
        *,
        broker: Broker | None = None,
        registry: RegistryServer | None = None,
    ) -> None:
        self.config = config or DevStackConfig()
        self.broker = broker or self.config.create_broker()
        self.registry: RegistryServer | None = registry
        if registry is None and self.config.with_registry:
            self.registry = RegistryServer(self.config.registry_config())

    @property
    def bootstrap_servers(self) -> str:
        """The broker's ``host:port`` addresses."""
        return self.broker.bootstrap_servers

    @property
    def schema_registry_url(self) -> str:
        """The registry's URL; an error when the stack has no registry."""
        if self.registry is None:
            raise DevStackError("this dev stack was configured without a schema registry")
        return self.registry.url

    def env(self) -> dict[str, str]:
        """The environment variables that point Clubhouse and other tools at this stack."""
        out = {BOOTSTRAP_ENV: self.bootstrap_servers}
        if self.registry is not None:
            out[REGISTRY_ENV] = self.schema_registry_url
        return out

    def processes(self) -> list[ManagedProcess]:
        """The child processes started so far."""
        found: list[ManagedProcess | None] = list(self.broker.processes())
        if self.registry is not None:
            found.append(self.registry.process)
        return [p for p in found if p is not None]

    def members(self) -> list[Member]:
        """The started children as supervised members; the registry is essential."""
        found = self.broker.members()
        if self.registry is not None and self.registry.process is not None:
            found.append(self.registry.member(restartable=False))
        return found

    def child_pids(self) -> list[int]:
        """Process ids of the stack's processes still running."""
        return [p.pid for p in self.processes() if p.is_running()]

    def start(self) -> DevStack:
        """Start the broker, then the registry; stop everything if either fails."""
        try:
            self.broker.start()
            if self.registry is not None:
                self.registry.start()
        except BaseException:
            self.stop()
            raise
        log.info("dev stack ready", extra=self.env())
        return self

    def stop(self) -> None:
        """Stop the registry, then the broker. Safe to call more than once."""
        # Both are attempted even if the first fails, so that nothing is left behind.
        try:
            if self.registry is not None:
                self.registry.stop()
        finally:
            self.broker.stop()

    def __enter__(self) -> DevStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
