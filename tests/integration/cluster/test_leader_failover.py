"""A 3-node Apache Kafka cluster loses the leader of the commands partition mid-stream.

With replication 3 and ``min.insync.replicas=2`` one node can go without losing a write: the
service and the client must both carry on, every command answered exactly once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from uuid import UUID

import pytest
from confluent_kafka.admin import AdminClient

from clubhouse.agents.messages import AgentCreatedResponse, CreateAgentCommand
from clubhouse.contracts import Response
from clubhouse.devstack.kafka import KafkaCluster
from tests.integration.service.conftest import Env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STREAM = 120
STOP_AFTER = 30


def _leader(bootstrap: str, topic: str) -> int:
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    return int(metadata.topics[topic].partitions[0].leader)


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
