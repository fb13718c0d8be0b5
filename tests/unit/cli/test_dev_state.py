"""What a dev run starts from: the state of the last run is cleared unless --keep-state."""

from __future__ import annotations

import logging
from pathlib import Path

import click
import pytest

from clubhouse.cli.dev_state import begin_run, check_keep_state
from clubhouse.devstack import DevStackError, create_broker
from clubhouse.devstack.brokers import data_to_keep
from clubhouse.devstack.kafka import formatted_storage


def state_of_a_last_run(data_dir: Path) -> Path:
    store = data_dir / "state" / "instance-2" / "partition-0.sqlite"
    store.parent.mkdir(parents=True)
    store.write_text("a key's state")
    return store


def test_a_run_clears_the_state_of_the_last_one(tmp_path: Path) -> None:
    state_of_a_last_run(tmp_path)
    begin_run(tmp_path, keep_state=False)
    assert not (tmp_path / "state").exists()


def test_keep_state_keeps_it_with_the_brokers_data(tmp_path: Path) -> None:
    store = state_of_a_last_run(tmp_path)
    begin_run(tmp_path, keep_state=True, broker_data_kept=True)
    assert store.read_text() == "a key's state"


def test_keep_state_without_broker_data_to_keep_begins_empty_all_the_same(
    tmp_path: Path,
) -> None:
    state_of_a_last_run(tmp_path)
    begin_run(tmp_path, keep_state=True, broker_data_kept=False)
    assert not (tmp_path / "state").exists()


def test_a_state_dir_of_the_users_own_is_kept_and_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    own = tmp_path / "mine"
    own.mkdir()
    (own / "partition-0.sqlite").write_text("x")
    with caplog.at_level(logging.WARNING):
        begin_run(tmp_path / "data", keep_state=False, own_state_dir=own)
    assert (own / "partition-0.sqlite").exists()
    assert any("--state-dir is not cleared" in r.getMessage() for r in caplog.records)


def test_keep_state_needs_kafka() -> None:
    check_keep_state(True, "kafka")
    check_keep_state(False, "tansu")
    with pytest.raises(click.UsageError, match="--keep-state needs --broker kafka"):
        check_keep_state(True, "tansu")


def test_a_tansu_broker_cannot_keep_data(tmp_path: Path) -> None:
    with pytest.raises(DevStackError, match="memory only"):
        create_broker("tansu", data_dir=tmp_path, keep_data=True)


def test_kafka_storage_is_kept_only_when_every_node_of_the_cluster_has_some(
    tmp_path: Path,
) -> None:
    assert not formatted_storage(tmp_path, 1)
    for node in (1, 2, 3):
        (tmp_path / f"node-{node}").mkdir()
        (tmp_path / f"node-{node}" / "meta.properties").write_text("node.id=1\n")
    assert formatted_storage(tmp_path, 3)
    assert not formatted_storage(tmp_path, 1)  # a 3-node cluster's data for one node
    assert not formatted_storage(tmp_path, 4)
    assert data_to_keep("kafka", data_dir=tmp_path.parent, kafka_nodes=3) is False
    assert not data_to_keep("tansu", data_dir=tmp_path)


def test_data_to_keep_looks_where_the_dev_stack_keeps_kafka(tmp_path: Path) -> None:
    (tmp_path / "kafka" / "node-1").mkdir(parents=True)
    (tmp_path / "kafka" / "node-1" / "meta.properties").write_text("node.id=1\n")
    assert data_to_keep("kafka", data_dir=tmp_path, kafka_nodes=1)
    assert not data_to_keep("kafka", data_dir=tmp_path, kafka_nodes=3)
