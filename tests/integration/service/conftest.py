"""A real service (in a thread, or as a process) on the shared broker and a fresh registry."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from clubhouse.app import ClubhouseService, ServiceConfig
from clubhouse.client import ClubhouseClient
from clubhouse.runtime.changelog import changelog_topic
from clubhouse.runtime.restore import changelog_state
from clubhouse.services.kafka import KafkaConsumer, KafkaSettings
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings


@dataclass
class Env:
    bootstrap: str
    registry_url: str
    prefix: str
    state_dir: Path
    threads: list[tuple[ClubhouseService, threading.Event, threading.Thread]] = field(
        default_factory=list
    )

    @property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings(self.bootstrap, dev_tuning=True)

    def config(self, **overrides: Any) -> ServiceConfig:
        base: dict[str, Any] = {
            "kafka": self.kafka,
            "registry": RegistrySettings(urls=[self.registry_url]),
            "topic_prefix": self.prefix,
            "state_dir": self.state_dir,
            "partitions": 2,
        }
        return ServiceConfig(**(base | overrides))

    def start_service(self, **overrides: Any) -> ClubhouseService:
        """A service running in a thread; stopped at teardown."""
        service = ClubhouseService(self.config(**overrides))
        service.start()
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
        thread.start()
        self.threads.append((service, stop, thread))
        return service

    def stop_services(self) -> None:
        for _, stop, thread in self.threads:
            stop.set()
            thread.join(30)
        self.threads.clear()

    def changelog_state(self, partitions: int = 2) -> dict[str, dict[str, object]]:
        """Every key's state, read from the changelog topic the way an owner restores it."""
        reader = KafkaConsumer(self.kafka, partition_eof=True)
        try:
            return changelog_state(reader.read_to_end, changelog_topic(self.prefix), partitions)
        finally:
            reader.close()

    def client(self) -> ClubhouseClient:
        registry = ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[self.registry_url]))
        return ClubhouseClient.connect(self.kafka, registry, topic_prefix=self.prefix)

    def service_process(self, *extra: str) -> subprocess.Popen[bytes]:
        """``clubhouse run`` as a child process, its output in the tmp dir."""
        log = open(self.state_dir.parent / "service.log", "ab")  # noqa: SIM115 - the child owns it
        return subprocess.Popen(
            [sys.executable, "-m", "clubhouse.cli.main", "run", "--bootstrap-servers",
             self.bootstrap, "--schema-registry-url", self.registry_url, "--topic-prefix",
             self.prefix, "--state-dir", str(self.state_dir), "--kafka-dev-tuning",
             "--partitions", "2", *extra],
            stdout=log, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip


@pytest.fixture
def env(kafka_broker: str, registry_url: str, topic_prefix: str, tmp_path: Path) -> Iterator[Env]:
    environment = Env(kafka_broker, registry_url, topic_prefix, tmp_path / "state")
    yield environment
    environment.stop_services()


def wait_for_schemas(env: Env, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    """Until the service process has registered its schemas and created its topics.

    Clients need both. The service creates its topics only after every schema is
    registered, so the responses topic being there says both; on Kafka it comes late enough
    that a client which only waited for the schemas finds no topic.
    """
    responses = f"{env.prefix}-responses"
    admin = AdminClient({"bootstrap.servers": env.bootstrap})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (env.state_dir.parent / "service.log").read_text()
            raise AssertionError(f"the service exited with {proc.returncode}:\n{log[-3000:]}")
        topic = admin.list_topics(timeout=5).topics.get(responses)  # creates nothing
        if topic is not None and topic.error is None:
            return
        time.sleep(0.1)
    raise AssertionError("the service did not register its schemas and create its topics in time")


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    proc.send_signal(sig)
    return proc.wait(60)


ProcessFactory = Callable[..., subprocess.Popen[bytes]]
