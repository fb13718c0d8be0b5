"""The brokers the dev stack can run, behind one protocol: Tansu (default) or Apache Kafka."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol, get_args

from clubhouse.devstack.broker import BrokerConfig, TansuBroker
from clubhouse.devstack.errors import DevStackError
from clubhouse.devstack.kafka import KafkaCluster, KafkaConfig, formatted_storage
from clubhouse.devstack.process import ManagedProcess
from clubhouse.devstack.supervisor import Member

BrokerKind = Literal["tansu", "kafka"]
BROKER_KINDS: tuple[str, ...] = get_args(BrokerKind)


class Broker(Protocol):
    """What the stack, the CLI and the test fixtures need of either broker."""

    @property
    def component(self) -> str:
        """The broker's name in logs and messages."""
        ...

    @property
    def bootstrap_servers(self) -> str:
        """The comma-separated ``host:port`` addresses clients connect to."""
        ...

    @property
    def startup_seconds(self) -> float | None:
        """Seconds the last start took; None before the first."""
        ...

    @property
    def process(self) -> ManagedProcess | None:
        """The broker's (first) process, or None before it is started."""
        ...

    def processes(self) -> list[ManagedProcess]:
        """Every process the broker runs."""
        ...

    def members(self) -> list[Member]:
        """The started processes as supervised members, each said restartable or not."""
        ...

    def start(self) -> None:
        """Start the broker and wait until it serves."""
        ...

    def stop(self) -> int | None:
        """Stop the broker; its exit code, or None if it was never started."""
        ...

    def restart(self) -> None:
        """Stop and start again on the same port(s), as clients see a broker restart."""
        ...


def data_to_keep(kind: str, *, data_dir: Path, kafka_nodes: int = 1) -> bool:
    """Whether a broker that ``create_broker`` makes would find data of a former run to keep."""
    return kind == "kafka" and formatted_storage(data_dir / "kafka", kafka_nodes)


def create_broker(
    kind: str,
    *,
    data_dir: Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    binary: Path | None = None,
    startup_timeout: float = 30.0,
    kafka_nodes: int = 1,
    keep_data: bool = False,
) -> Broker:
    """A not-yet-started broker of ``kind``, its logs under ``data_dir/logs``.

    ``port`` is the (first) broker port; ``binary`` is Tansu's; ``kafka_nodes`` and
    ``keep_data`` (the data of the last start, instead of empty storage) are Kafka's.
    """
    logs = data_dir / "logs"
    if kind == "tansu":
        if kafka_nodes != 1:
            raise DevStackError("Tansu runs one broker; --kafka-brokers needs --broker kafka")
        if keep_data:
            raise DevStackError("Tansu keeps its data in memory only; there is none to keep")
        return TansuBroker(
            BrokerConfig(
                log_path=logs / "broker.log",
                host=host,
                port=port,
                binary=binary,
                startup_timeout=startup_timeout,
            )
        )
    if kind == "kafka":
        if port is not None and kafka_nodes != 1:
            raise DevStackError("a fixed broker port works with one Kafka broker only")
        return KafkaCluster(
            KafkaConfig(
                data_dir=data_dir / "kafka",
                log_dir=logs,
                nodes=kafka_nodes,
                host=host,
                broker_ports=None if port is None else (port,),
                keep_data=keep_data,
                # The JVM's start-up alone is several seconds on a busy 2-core machine.
                startup_timeout=max(startup_timeout, 90.0),
            )
        )
    raise DevStackError(f"unknown broker {kind!r}; choose one of {', '.join(BROKER_KINDS)}")
