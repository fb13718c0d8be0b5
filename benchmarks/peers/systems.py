"""The systems the peers comparison measures, and how each peer is started on a prefix.

A ``System`` starts on a fresh topic prefix (one per round, so no round reads another's
records or state) and returns its processes once it serves. Clubhouse's systems are made
by ``benchmarks/service.py`` (its ``clubhouse run`` command line); the peers are made here:
each gets its topics (three partitions, as the service creates its own), the built-in
catalog registered under its prefix with the contract file written, and one child process.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.peers import contract
from benchmarks.peers.streams import READY_LINE as STREAMS_READY
from benchmarks.peers.streams import StreamsUnavailableError, java_command, streams_argv
from clubhouse.devstack.process import ManagedProcess, ProcessSpec
from clubhouse.messaging.subjects import all_topics
from clubhouse.services.kafka import KafkaAdmin, KafkaSettings
from clubhouse.services.kafka_admin import TopicSpec
from clubhouse.services.registry_settings import RegistrySettings
from clubhouse.services.schema_registry import ConfluentSchemaRegistry

PARTITIONS = 3
FASTSTREAM_APP = Path(__file__).with_name("faststream_echo.py")
FASTSTREAM_READY = "faststream-echo: RUNNING"  # printed by the app once it has started
START_TIMEOUT_S = 120.0

# Starts a system on a topic prefix, for these keys; its processes, once it serves.
Start = Callable[[str, Sequence[str]], list[ManagedProcess]]


@dataclass(frozen=True, slots=True)
class Place:
    """Where the systems run: a scratch folder, the broker and the registry."""

    directory: Path
    settings: KafkaSettings
    registry_url: str
    broker_pid: int

    def registry(self) -> ConfluentSchemaRegistry:
        return ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[self.registry_url]))


@dataclass(frozen=True, slots=True)
class System:
    name: str  # short: in topic prefixes, logs and the figures
    label: str  # its row in the report
    start: Start


def streams_systems(place: Place) -> tuple[list[System], str | None]:
    """Kafka Streams at its default commit interval and at every poll; or why not."""
    try:
        java = java_command()
    except StreamsUnavailableError as exc:
        return [], f"Kafka Streams peer skipped: {exc}"

    def system(name: str, label: str, commit_interval_ms: int) -> System:
        def start(prefix: str, _keys: Sequence[str]) -> list[ManagedProcess]:
            path = prepare(place, prefix)
            argv = streams_argv(
                java, bootstrap=place.settings.bootstrap_servers, prefix=prefix, contract=path,
                commit_interval_ms=commit_interval_ms,
                state_dir=place.directory / prefix / "streams-state",
            )  # fmt: skip
            return [launch(place, prefix, argv, STREAMS_READY)]

        return System(name, label, start)

    return [
        system("streams100", "Kafka Streams, commit every 100 ms (its default)", 100),
        system("streams0", "Kafka Streams, commit every poll", 0),
    ], None


def faststream_systems(place: Place) -> tuple[list[System], str | None]:
    """FastStream, acking each command after publishing its answer; or why not."""
    if importlib.util.find_spec("faststream") is None:
        return [], (
            "FastStream peer skipped: faststream is not installed "
            "(.venv/bin/pip install 'faststream[confluent]==0.7.8')"
        )

    def start(prefix: str, _keys: Sequence[str]) -> list[ManagedProcess]:
        path = prepare(place, prefix)
        argv = [sys.executable, str(FASTSTREAM_APP), place.settings.bootstrap_servers, prefix,
                str(path)]  # fmt: skip
        return [launch(place, prefix, argv, FASTSTREAM_READY)]

    return [System("faststream", "FastStream, ack after publish", start)], None


def prepare(place: Place, prefix: str) -> Path:
    """The prefix's topics and registered schemas; the path of its contract file."""
    KafkaAdmin(place.settings).ensure_topics(
        [TopicSpec(t, partitions=PARTITIONS) for t in all_topics(prefix)]
    )
    with place.registry() as registry:
        return contract.register(registry, prefix, place.directory / prefix / "contract.json")


def launch(place: Place, name: str, argv: list[str], ready_line: str) -> ManagedProcess:
    """Start ``argv`` as a child process; return once it has printed ``ready_line``."""
    log = place.directory / f"{name}.log"
    proc = ManagedProcess(ProcessSpec(name, argv, log))
    proc.start()

    def printed() -> bool:
        try:
            return ready_line in log.read_text(errors="replace")
        except FileNotFoundError:
            return False

    proc.wait_ready(printed, repr(ready_line), START_TIMEOUT_S)
    return proc
