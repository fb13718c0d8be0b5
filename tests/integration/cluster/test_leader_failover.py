"""A 3-node Apache Kafka cluster loses the leader of the commands partition mid-stream.

With replication 3 and ``min.insync.replicas=2`` one node can go without losing a write: the
service and the client must both carry on, every command answered exactly once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from confluent_kafka.admin import AdminClient

from clubhouse.agents.messages import AgentCreatedResponse, CreateAgentCommand
from clubhouse.client import ClubhouseClient
from clubhouse.contracts import Command, Response
from clubhouse.devstack.kafka import KafkaCluster
from clubhouse.services.kafka import KafkaSettings
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings
from tests.integration.scaleout.traffic import Driver, Plan, ResponseCollector
from tests.integration.service.conftest import Env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STREAM = 120
OFFSETS = "__consumer_offsets"
STOP_AFTER = 30


def _leader(bootstrap: str, topic: str) -> int:
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    return int(metadata.topics[topic].partitions[0].leader)


def _group_coordinator(bootstrap: str, group: str) -> int:
    """The node leading the group's partition of ``__consumer_offsets``: its coordinator.

    The broker picks the partition as ``abs(group.hashCode()) % partitions``, with Java's
    String hash and Kafka's ``Utils.abs``."""
    java_hash = 0
    for unit in group.encode("utf-16-be").hex(" ", 2).split():
        java_hash = (31 * java_hash + int(unit, 16)) & 0xFFFFFFFF
    signed = java_hash - (1 << 32) if java_hash >= 1 << 31 else java_hash
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(OFFSETS, timeout=10)
    partitions = metadata.topics[OFFSETS].partitions
    index = (0 if signed == -(1 << 31) else abs(signed)) % len(partitions)
    return int(partitions[index].leader)


def test_stopping_the_commands_leader_loses_and_repeats_no_response(
    kafka_cluster: KafkaCluster, registry_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    env = Env(kafka_cluster.bootstrap_servers, registry_url, topic_prefix, tmp_path / "state")
    env.start_service(partitions=1)
    commands_topic = f"{topic_prefix}-commands"
    counts: Counter[UUID] = Counter()
    stopper: threading.Thread | None = None
    try:
        with env.client() as client:
            warm = client.request(CreateAgentCommand(agent_id="warm-up"), timeout=60)
            assert isinstance(warm, AgentCreatedResponse)
            leader = _leader(kafka_cluster.bootstrap_servers, commands_topic)
            responses = client._response_reader()
            commands = [CreateAgentCommand(agent_id=f"s{i}") for i in range(STREAM)]
            wanted = {c.message_id for c in commands}

            def collect(wait: float) -> None:
                for record in responses.poll_batch(500, wait):
                    message = client._decode(record)
                    if isinstance(message, Response) and message.in_response_to in wanted:
                        counts[message.in_response_to] += 1

            for i, command in enumerate(commands):
                if i == STOP_AFTER:
                    # Stopped beside the stream, so that sends go on while leadership moves.
                    stopper = threading.Thread(target=kafka_cluster.node(leader).stop)
                    stopper.start()
                client.send(command)
                collect(0.02)
            assert stopper is not None
            stopper.join(60)
            deadline = time.monotonic() + 90
            while len(counts) < STREAM and time.monotonic() < deadline:
                collect(0.5)
            collect(3.0)  # a duplicate would come soon after the original
        new_leader = _leader(kafka_cluster.bootstrap_servers, commands_topic)
        service_alive = all(thread.is_alive() for _, _, thread in env.threads)
    finally:
        env.stop_services()
    assert service_alive
    assert new_leader != leader
    missing = wanted - set(counts)
    assert not missing, f"{len(missing)} of {STREAM} commands got no response"
    repeated = {k: n for k, n in counts.items() if n > 1}
    assert not repeated, f"{len(repeated)} commands were answered more than once"


KILL_KEYS = 30
KILL_MESSAGES = 1500
KILL_RATE = 50.0  # commands per second, sent whatever the service is doing
KILL_AFTER = 400  # commands sent before the leader is killed


class _TimedClient(ClubhouseClient):
    """A client that notes when the broker acknowledged each command it sent."""

    def __init__(self, **parts: Any) -> None:
        super().__init__(**parts)
        self.acked_at: dict[UUID, float] = {}

    def send(self, command: Command) -> None:
        super().send(command)
        self.acked_at[command.message_id] = time.monotonic()


class _ArrivalLog:
    """Reads the responses topic (read_committed) and notes when each command is first
    answered, and how many times in all."""

    def __init__(self, bootstrap: str, registry_url: str, prefix: str) -> None:
        self.counts: Counter[UUID] = Counter()
        self.first_seen: dict[UUID, float] = {}
        self._collector = ResponseCollector(bootstrap, registry_url, prefix)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="arrivals", daemon=True)
        self._thread.start()

    def stall_after(self, since: float) -> float:
        """The longest time from ``since`` on in which no command got its first answer."""
        times = sorted(t for t in self.first_seen.values() if t >= since)
        edges = [since, *times]
        return max((b - a for a, b in pairwise(edges)), default=0.0)

    def longest_wait(self, acked_at: dict[UUID, float]) -> float:
        """The longest any command waited from its acknowledgement to its first answer."""
        waits = (self.first_seen[k] - t for k, t in acked_at.items() if k in self.first_seen)
        return max(waits, default=0.0)

    def wait_answered(self, ids: set[UUID], timeout: float) -> set[UUID]:
        return self._collector.wait_answered(sorted(ids, key=str), timeout)

    def settle(self) -> None:
        self._collector.settle()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._collector.close()

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            answers = self._collector.answers()
            now = time.monotonic()
            for command_id in answers.keys() - self.first_seen.keys():
                self.first_seen[command_id] = now
            self.counts = Counter({k: a.records for k, a in answers.items()})


@pytest.mark.parametrize("victim", ["commands-leader", "group-coordinator"])
def test_a_killed_leader_stalls_exactly_once_instances_briefly_and_loses_nothing(  # noqa: PLR0917 (pytest passes fixtures by name)
    victim: str,
    kafka_cluster: KafkaCluster,
    registry_url: str,
    topic_prefix: str,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """Two exactly-once instances, commands at a steady rate, kill -9 of the node leading
    commands partition 0, or of the one leading the group's offsets (where the instances
    send their transactions' offsets). Every command is answered once. The stall (the
    longest time after the kill with no command answered) and the longest any command
    waited for its answer are reported, not asserted: they depend on the machine."""
    env = Env(kafka_cluster.bootstrap_servers, registry_url, topic_prefix, tmp_path / "state")
    env.start_service(partitions=3, instance_id="a", state_dir=tmp_path / "a")
    env.start_service(partitions=3, instance_id="b", state_dir=tmp_path / "b")
    bootstrap = kafka_cluster.bootstrap_servers
    commands_topic = f"{topic_prefix}-commands"
    plan = Plan(keys=KILL_KEYS, messages=KILL_MESSAGES, key_prefix="k")
    arrivals: _ArrivalLog | None = None
    try:
        with env.client() as client:
            warm = client.request(CreateAgentCommand(agent_id="warm-up"), timeout=90)
            assert isinstance(warm, AgentCreatedResponse)
        arrivals = _ArrivalLog(bootstrap, registry_url, topic_prefix)
        leader = (
            _leader(bootstrap, commands_topic)
            if victim == "commands-leader"
            else _group_coordinator(bootstrap, f"{topic_prefix}-service")
        )
        registry = ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[registry_url]))
        driver_settings = KafkaSettings(bootstrap, client_id=f"{topic_prefix}-driver",
                                        dev_tuning=True)  # fmt: skip
        with _TimedClient.connect(driver_settings, registry, topic_prefix=topic_prefix) as sender:
            assert isinstance(sender, _TimedClient)
            driver = Driver(sender, plan.commands(), KILL_RATE).start()
            driver.wait_sent(KILL_AFTER)
            process = kafka_cluster.node(leader).process
            assert process is not None
            killed_at = time.monotonic()
            os.killpg(process.pid, signal.SIGKILL)
            driver.join(300)
        wanted = {c.message_id for c in driver.commands}
        missing = arrivals.wait_answered(wanted, 120)
        arrivals.settle()  # a duplicate would come soon after the original
        stall = arrivals.stall_after(killed_at)
        longest = arrivals.longest_wait(sender.acked_at)
        counts = Counter({k: n for k, n in arrivals.counts.items() if k in wanted})
        service_alive = all(thread.is_alive() for _, _, thread in env.threads)
    finally:
        if arrivals is not None:
            arrivals.close()
        env.stop_services()
    record_property("stall_after_leader_kill_s", round(stall, 1))
    record_property("longest_wait_for_an_answer_s", round(longest, 1))
    print(f"\nno command answered for {stall:.1f} s after the kill -9 of the {victim}; "
          f"the longest any command waited for its answer: {longest:.1f} s")  # fmt: skip
    assert service_alive
    assert not missing, f"{len(missing)} of {len(wanted)} commands got no response"
    repeated = {k: n for k, n in counts.items() if n > 1}
    assert not repeated, f"{len(repeated)} commands were answered more than once"
