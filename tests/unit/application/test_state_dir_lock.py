"""One service instance per state dir: a second one stops before it touches anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from clubhouse.app import STATE_LOCK_FILE, ClubhouseService, ServiceConfig, StartupError
from clubhouse.dir_lock import DirLock
from clubhouse.services.kafka import KafkaSettings
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings


def _service(state_dir: Path) -> ClubhouseService:
    config = ServiceConfig(
        kafka=KafkaSettings("127.0.0.1:1"),
        registry=RegistrySettings(urls=["http://127.0.0.1:1"]),
        state_dir=state_dir,
    )
    registry = ConfluentSchemaRegistry(SchemaRegistryClient.new_client({"url": "mock://lock"}))
    return ClubhouseService(config, registry=registry)


def test_a_second_instance_on_a_state_dir_is_refused_naming_the_first(tmp_path: Path) -> None:
    held = DirLock(tmp_path, STATE_LOCK_FILE, lambda d, h: RuntimeError("busy")).acquire()
    held.record({"instance_id": "instance-first"})
    service = _service(tmp_path)
    with pytest.raises(StartupError) as refused:
        service.start()
    message = str(refused.value)
    assert f"pid {os.getpid()}" in message and "instance-first" in message
    assert str(tmp_path) in message and "--state-dir" in message
    assert not (tmp_path / "instance-id").exists(), "the refused instance touched the state dir"
    held.release()
