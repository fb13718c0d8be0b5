"""The Kafka cluster's generated configuration and its errors, without starting a JVM."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from clubhouse.cli.main import cli
from clubhouse.devstack import DevStackError
from clubhouse.devstack.brokers import create_broker
from clubhouse.devstack.kafka import KAFKA_VERSION, KafkaCluster, KafkaConfig, new_cluster_id
from clubhouse.devstack.kafka_config import node_properties
from clubhouse.devstack.maven import MavenResolutionError


def _props(cluster_size: int, **overrides: str) -> dict[str, str]:
    text = node_properties(
        node_id=2,
        host="127.0.0.1",
        broker_port=9092,
        controller_port=9093,
        voters="1@127.0.0.1:1,2@127.0.0.1:9093,3@127.0.0.1:3",
        log_dir=Path("/data/node-2"),
        cluster_size=cluster_size,
        overrides=overrides,
    )
    return dict(line.split("=", 1) for line in text.splitlines())


def test_a_node_is_broker_and_controller_on_loopback_only() -> None:
    props = _props(3)
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "2"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["log.dirs"] == "/data/node-2"
    assert props["group.initial.rebalance.delay.ms"] == "0"


@pytest.mark.parametrize(
    ("size", "replicas", "min_isr"), [(1, "1", "1"), (3, "3", "2"), (5, "3", "2")]
)
def test_replication_fits_the_cluster(size: int, replicas: str, min_isr: str) -> None:
    props = _props(size)
    assert props["default.replication.factor"] == replicas
    assert props["offsets.topic.replication.factor"] == replicas
    assert props["transaction.state.log.replication.factor"] == replicas
    assert props["min.insync.replicas"] == min_isr
    assert props["transaction.state.log.min.isr"] == min_isr


def test_overrides_win() -> None:
    assert _props(1, **{"num.io.threads": "8"})["num.io.threads"] == "8"


def test_a_cluster_id_never_starts_with_a_dash() -> None:
    # kafka-storage's argument parser reads "--cluster-id -x..." as a missing value (seen
    # once in ~60 cluster starts); Kafka's own Uuid.randomUuid() skips such ids too.
    draws = iter([b"\xf8" + bytes(15), bytes(16)])
    assert new_cluster_id(lambda: next(draws)) == "A" * 22


def test_cluster_ids_are_kafka_uuids() -> None:
    ids = {new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 22 and "=" not in i for i in ids)


def test_bad_node_counts_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DevStackError, match="at least 1 node"):
        KafkaCluster(KafkaConfig(data_dir=tmp_path, log_dir=tmp_path, nodes=0))
    with pytest.raises(DevStackError, match="1 broker ports given for 3 Kafka nodes"):
        KafkaCluster(KafkaConfig(data_dir=tmp_path, log_dir=tmp_path, nodes=3, broker_ports=[1]))
    with pytest.raises(DevStackError, match="--kafka-brokers needs --broker kafka"):
        create_broker("tansu", data_dir=tmp_path, kafka_nodes=3)
    with pytest.raises(DevStackError, match="unknown broker 'redpanda'"):
        create_broker("redpanda", data_dir=tmp_path)


def test_maven_failure_propagates_before_anything_is_started(tmp_path: Path) -> None:
    def failing(name: str, artifacts: Sequence[str]) -> list[Path]:
        assert name == f"kafka-{KAFKA_VERSION}"
        raise MavenResolutionError(artifacts, 1, ["Could not resolve"])

    cluster = KafkaCluster(
        KafkaConfig(data_dir=tmp_path / "k", log_dir=tmp_path, java="/bin/true"), resolver=failing
    )
    with pytest.raises(MavenResolutionError, match="kafka_2.13"):
        cluster.start()
    assert cluster.processes() == []


def _path_with(tmp_path: Path, *tools: str) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        script = bin_dir / tool
        script.write_text("#!/bin/sh\nexit 1\n")
        script.chmod(0o755)
    return str(bin_dir)


@pytest.mark.parametrize(("present", "missing"), [((), "java"), (("java",), "mvn")])
def test_dev_without_java_or_maven_exits_2_naming_the_tool(
    tmp_path: Path, present: tuple[str, ...], missing: str
) -> None:
    env = {
        "PATH": _path_with(tmp_path, *present),
        "CLUBHOUSE_CACHE_DIR": str(tmp_path / "cache"),  # nothing resolved yet
    }
    result = CliRunner().invoke(
        cli,
        ["dev", "--broker", "kafka", "--no-service", "--data-dir", str(tmp_path / "d")],
        env=env,
    )
    assert result.exit_code == 2, result.output
    assert f"{missing} was not found on PATH" in result.output
    assert "apt-get install openjdk-17-jdk-headless maven" in result.output
    assert os.environ.get("PATH") != env["PATH"]  # the runner restored ours


def test_several_brokers_on_tansu_is_a_config_error(tmp_path: Path) -> None:
    args = ["dev", "--kafka-brokers", "3", "--no-service", "--data-dir", str(tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "--kafka-brokers needs --broker kafka" in result.output
