"""Fixtures for every test: real broker and registry processes, started through the same
supervisor code as ``clubhouse dev`` (``clubhouse.devstack``), plus per-test names so that
tests can share one broker without seeing each other's topics and groups.

Every broker fixture runs each test twice, on Tansu and on Apache Kafka (ids ``[tansu]`` and
``[kafka]``). Without java or mvn the Kafka variants are left out with one summary line,
unless ``CLUBHOUSE_REQUIRE_KAFKA=1`` (CI), where they fail instead.

* ``broker_kind`` -- ``"tansu"`` or ``"kafka"``: for tests that start their own stack.
* ``kafka_broker`` -- bootstrap servers of one broker of that kind for the whole session.
* ``broker_factory`` -- private brokers for a test that stops or restarts its broker.
* ``kafka_cluster`` -- a private 3-node Apache Kafka cluster (Kafka only).
* ``registry_factory`` / ``registry_url`` -- a fresh registry process on a tmp database.
* ``session_registry`` / ``session_registry_url`` -- one registry for the whole session;
  keep to your own subjects.
* ``topic_prefix`` -- a prefix no other test uses, for topics, subjects and group ids.
* ``taken_port`` -- a loopback port with a live listener, for "port in use" tests.
* ``kafka_settings`` -- KafkaSettings for ``kafka_broker`` with the dev tuning on.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from clubhouse.devstack.brokers import BROKER_KINDS, Broker, create_broker
from clubhouse.devstack.kafka import KafkaCluster, kafka_available
from clubhouse.devstack.registry import RegistryConfig, RegistryServer
from clubhouse.services.kafka import KafkaSettings

BrokerFactory = Callable[[], Broker]
RegistryFactory = Callable[..., RegistryServer]

REQUIRE_KAFKA_ENV = "CLUBHOUSE_REQUIRE_KAFKA"
_LEFT_OUT = pytest.StashKey[str]()


def _kafka_unavailable() -> str | None:
    missing = kafka_available()
    if missing is None:
        return None
    return (
        f"{missing} is not on PATH (install a JDK 17+ and "
        f"Maven; set {REQUIRE_KAFKA_ENV}=1 to make this a failure)"
    )


def pytest_report_header(config: pytest.Config) -> str:
    reason = _kafka_unavailable()
    if reason is None:
        return "brokers: tansu, kafka"
    if os.environ.get(REQUIRE_KAFKA_ENV) == "1":
        return f"brokers: tansu, kafka (required, but it cannot run: {reason})"
    return f"brokers: tansu only, kafka left out: {reason}"


def _runs_on_kafka(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    on_kafka = callspec is not None and callspec.params.get("broker_kind") == "kafka"
    return on_kafka or "kafka_cluster" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without java or mvn, leave the Kafka variants out and say so once (not once a test)."""
    reason = _kafka_unavailable()
    if reason is None or os.environ.get(REQUIRE_KAFKA_ENV) == "1":
        return
    left_out = [item for item in items if _runs_on_kafka(item)]
    if left_out:
        items[:] = [item for item in items if not _runs_on_kafka(item)]
        config.hook.pytest_deselected(items=left_out)
        config.stash[_LEFT_OUT] = f"{len(left_out)} Apache Kafka test variants: {reason}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _LEFT_OUT in config.stash:
        terminalreporter.write_line(f"SKIPPED {config.stash[_LEFT_OUT]}", yellow=True)


def _require_kafka() -> None:
    reason = _kafka_unavailable()
    if reason is not None:
        if os.environ.get(REQUIRE_KAFKA_ENV) == "1":
            pytest.fail(f"{REQUIRE_KAFKA_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session", params=BROKER_KINDS)
def broker_kind(request: pytest.FixtureRequest) -> str:
    """Which broker this variant of the test runs on; skips Kafka without java or mvn."""
    kind = str(request.param)
    if kind == "kafka":
        _require_kafka()
    return kind


@pytest.fixture
def kafka_cluster(tmp_path: Path) -> Iterator[KafkaCluster]:
    """A private 3-node Kafka cluster (replication 3, min.insync.replicas 2)."""
    _require_kafka()
    cluster = create_broker("kafka", data_dir=tmp_path / "cluster", kafka_nodes=3)
    assert isinstance(cluster, KafkaCluster)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def session_broker(broker_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """The session's broker of ``broker_kind`` (for its log or pid); most want ``kafka_broker``."""
    broker = create_broker(broker_kind, data_dir=tmp_path_factory.mktemp(f"broker-{broker_kind}"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def kafka_broker(session_broker: Broker) -> str:
    """``host:port`` of a broker shared by the session (loopback)."""
    return session_broker.bootstrap_servers


@pytest.fixture
def broker_factory(broker_kind: str, tmp_path: Path) -> Iterator[BrokerFactory]:
    """Starts private brokers (``.restart()``, ``.stop()``); all are stopped after the test."""
    started: list[Broker] = []

    def start() -> Broker:
        broker = create_broker(broker_kind, data_dir=tmp_path / f"broker-{len(started)}")
        started.append(broker)
        broker.start()
        return broker

    yield start
    for broker in started:
        broker.stop()


@pytest.fixture
def registry_factory(tmp_path: Path) -> Iterator[RegistryFactory]:
    """Starts registry processes on fresh tmp databases; keyword arguments go to RegistryConfig.

    ``registry_factory(basic_auth_file=path)`` starts one that requires authentication.
    """
    started: list[RegistryServer] = []

    def start(**overrides: Any) -> RegistryServer:
        n = len(started)
        config = RegistryConfig(
            db_path=tmp_path / f"registry-{n}.db", log_path=tmp_path / f"registry-{n}.log"
        )
        server = RegistryServer(replace(config, **overrides))
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def registry_url(registry_factory: RegistryFactory) -> str:
    """The URL of a registry process with an empty database, private to this test."""
    return registry_factory().url


@pytest.fixture(scope="session")
def session_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """The session's registry object (for its log); most tests want ``session_registry_url``."""
    directory = tmp_path_factory.mktemp("registry")
    config = RegistryConfig(db_path=directory / "registry.db", log_path=directory / "registry.log")
    with RegistryServer(config) as server:
        yield server


@pytest.fixture(scope="session")
def session_registry_url(session_registry: RegistryServer) -> str:
    """One registry for the session; tests must keep to subjects under their ``topic_prefix``."""
    return session_registry.url


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """``t-<test name>-<random>``: unique per test, readable in broker and registry listings."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:40]
    return f"t-{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port with a live listener on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def kafka_settings(kafka_broker: str, topic_prefix: str) -> KafkaSettings:
    """Settings for the session broker, dev-tuned (3 s group joins, ~7 ms round trips)."""
    return KafkaSettings(bootstrap_servers=kafka_broker, client_id=topic_prefix, dev_tuning=True)
