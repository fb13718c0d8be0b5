"""The service end to end on a real Tansu broker and a real registry process."""

from __future__ import annotations

import json
import signal
import time
from io import BytesIO
from typing import Any
from uuid import UUID

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro import parse_schema, schemaless_writer

from clubhouse.agents.messages import (
    AgentCreatedResponse,
    AgentDeletedResponse,
    CreateAgentCommand,
    DeleteAgentCommand,
    MessageProcessedResponse,
    ProcessMessageCommand,
)
from clubhouse.avro import AvroCodec, frame
from clubhouse.contracts import ErrorResponse
from clubhouse.errors import ClubhouseError
from clubhouse.messaging.processor import DLQ_REASON
from clubhouse.services.kafka import KafkaConsumer, KafkaProducer
from tests.integration.service.conftest import Env, stop_process, wait_for_schemas

pytestmark = pytest.mark.integration


def read_all(env: Env, topic: str, expect: int, timeout: float = 20.0) -> list[Any]:
    """Every record of ``topic`` from the beginning, waiting until ``expect`` have arrived."""
    consumer = Consumer({"bootstrap.servers": env.bootstrap, "group.id": "reader",
                         "fetch.wait.max.ms": 10})  # fmt: skip
    meta = consumer.list_topics(topic, timeout=10)
    consumer.assign([TopicPartition(topic, p, 0) for p in meta.topics[topic].partitions])
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(records) < expect and time.monotonic() < deadline:
        records += [m for m in consumer.consume(100, 0.2) if m.error() is None]
    consumer.close()
    return records


def test_create_process_delete_on_the_wire_confluent_can_read(env: Env) -> None:
    env.start_service()
    with env.client() as client:
        create = CreateAgentCommand(agent_id="a1")
        created = client.request(create, timeout=30)
        ask = ProcessMessageCommand(agent_id="a1", content="hello", conversation_id="c")
        answer = client.request(ask)
        delete = DeleteAgentCommand(agent_id="a1")
        deleted = client.request(delete)
    assert isinstance(created, AgentCreatedResponse)
    assert isinstance(answer, MessageProcessedResponse)
    assert answer.content == "Hello! How can I help you today?"
    assert isinstance(deleted, AgentDeletedResponse)

    # confluent-kafka's own deserializer reads what the service wrote: the formats agree.
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": env.registry_url}))
    responses = [
        deserializer(m.value(), SerializationContext(m.topic(), MessageField.VALUE))
        for m in read_all(env, f"{env.prefix}-responses", 3)
    ]
    answered = {str(r["in_response_to"]): r["message_type"] for r in responses}
    assert answered == {
        str(create.message_id): "response.agent_created",
        str(ask.message_id): "response.message_processed",
        str(delete.message_id): "response.agent_deleted",
    }
    events = [
        deserializer(m.value(), SerializationContext(m.topic(), MessageField.VALUE))
        for m in read_all(env, f"{env.prefix}-events", 3)
    ]
    assert sorted(e["message_type"] for e in events) == [
        "event.agent_state_changed", "event.agent_state_changed", "event.agent_thinking",
    ]  # fmt: skip
    assert {json.loads(r["metadata"])["rule"] for r in responses if "content" in r} == {"greeting"}


def test_unknown_agent_gets_an_error_response(env: Env) -> None:
    env.start_service()
    with env.client() as client:
        command = ProcessMessageCommand(agent_id="ghost", content="hi")
        reply = client.request(command, timeout=30)
    assert isinstance(reply, ErrorResponse)
    assert reply.error_type == "agent_not_found"
    assert reply.in_response_to == command.message_id


def test_bad_records_go_to_dead_letters_and_the_service_carries_on(env: Env) -> None:
    env.start_service()
    producer = KafkaProducer(env.kafka)
    topic = f"{env.prefix}-commands"
    producer.send(topic, b"k", b"definitely not avro")
    producer.send(topic, b"k", frame(987654, b"\x02\x04"))
    with env.client() as client:
        reply = client.request(CreateAgentCommand(agent_id="after"), timeout=30)
    assert isinstance(reply, AgentCreatedResponse)
    dead = read_all(env, f"{env.prefix}-dead-letters", 2)
    reasons = sorted(dict(m.headers())[DLQ_REASON] for m in dead)
    assert reasons == [b"bad_framing", b"unknown_schema_id"]
    assert {m.value() for m in dead} == {b"definitely not avro", frame(987654, b"\x02\x04")}
    producer.close()


def test_a_message_written_with_an_older_schema_is_read(env: Env) -> None:
    env.start_service()
    current = AvroCodec(ProcessMessageCommand).schema
    v1 = current | {"fields": [f for f in current["fields"] if f["name"] != "conversation_id"]}
    subject = f"{env.prefix}-ProcessMessageCommand-value"
    sr = SchemaRegistryClient({"url": env.registry_url})
    old_id = sr.register_schema(subject, Schema(json.dumps(v1), "AVRO"))
    assert sr.get_versions(subject) == [1, 2]
    with env.client() as client:
        client.request(CreateAgentCommand(agent_id="old", personality_type="echo"), timeout=30)
        command = ProcessMessageCommand(agent_id="old", content="from an old producer")
        datum = command.model_dump(exclude={"conversation_id"}) | {
            "message_id": str(command.message_id), "metadata": "{}",
        }  # fmt: skip
        body = BytesIO()
        schemaless_writer(body, parse_schema(v1), datum)
        producer = KafkaProducer(env.kafka)
        responses = client._response_reader()  # positioned before the command goes out
        producer.send(f"{env.prefix}-commands", b"old", frame(old_id, body.getvalue()))
        producer.close()
        deadline = time.monotonic() + 20
        answer = None
        while answer is None and time.monotonic() < deadline:
            for record in responses.poll_batch(10, 0.5):
                message = client._decode(record)
                if getattr(message, "in_response_to", None) == command.message_id:
                    answer = message
    assert isinstance(answer, MessageProcessedResponse)
    assert (answer.content, answer.conversation_id) == ("from an old producer", None)


def test_agents_survive_a_restart(env: Env) -> None:
    env.start_service()
    with env.client() as client:
        client.request(CreateAgentCommand(agent_id="keeper", personality_type="echo"), timeout=30)
    env.stop_services()
    env.start_service()
    with env.client() as client:
        reply = client.request(ProcessMessageCommand(agent_id="keeper", content="still here?"),
                               timeout=30)  # fmt: skip
    assert isinstance(reply, MessageProcessedResponse)
    assert reply.content == "still here?"


def test_metrics_and_health_endpoints(env: Env) -> None:
    service = env.start_service(metrics_port=0)
    base = f"http://127.0.0.1:{service.metrics_port}"
    with env.client() as client:
        client.request(CreateAgentCommand(agent_id="m"), timeout=30)
    assert httpx.get(f"{base}/readyz").json()["ready"] is True
    assert httpx.get(f"{base}/healthz").status_code == 200
    metrics = httpx.get(f"{base}/metrics").text
    assert (
        'clubhouse_messages_total{message_type="command.create_agent",outcome="command"} 1.0'
        in metrics
    )
    assert "clubhouse_processing_seconds_bucket" in metrics


def test_sigterm_exits_cleanly_with_offsets_committed(env: Env) -> None:
    proc = env.service_process()
    wait_for_schemas(env, proc)
    try:
        with env.client() as client:
            client.request(CreateAgentCommand(agent_id="t0"), timeout=60)
            answers = client.request_many(
                [ProcessMessageCommand(agent_id="t0", content=f"m{i}") for i in range(20)], 30
            )
        assert len(answers) == 20
    finally:
        code = stop_process(proc, signal.SIGTERM)
    assert code == 0, (env.state_dir.parent / "service.log").read_text()[-3000:]
    topic = f"{env.prefix}-commands"
    # The real end of each partition, from the records themselves: Tansu's ListOffsets
    # answers the end of a multi-record batch too low, so watermarks cannot be used here.
    ends: dict[int, int] = {}
    for m in read_all(env, topic, 21):
        ends[m.partition()] = max(ends.get(m.partition(), 0), m.offset() + 1)
    assert sum(ends.values()) == 21
    reader = KafkaConsumer(env.kafka, group_id=f"{env.prefix}-service")
    committed = reader.committed([(topic, p) for p in ends], timeout=10)
    reader.close()
    assert {o.partition: o.offset for o in committed} == ends


def test_sigkill_mid_stream_loses_no_command_and_repeats_no_effect(env: Env) -> None:
    factory = ("--agent-factory", "tests.integration.service.slow_agents:make",
               "--batch-size", "4")  # fmt: skip
    proc = env.service_process(*factory)
    wait_for_schemas(env, proc)
    commands = [CreateAgentCommand(agent_id=f"k{i}") for i in range(40)]
    answers: dict[UUID, Any] = {}
    try:
        with env.client() as client:
            client.request(CreateAgentCommand(agent_id="warm-up"), timeout=60)
            responses = client._response_reader()
            client._publish(commands)
            wanted = {c.message_id for c in commands}
            while len(answers) < 5:  # some done, most still queued: now kill it
                for record in responses.poll_batch(50, 0.2):
                    message = client._decode(record)
                    if getattr(message, "in_response_to", None) in wanted:
                        answers[message.in_response_to] = message  # type: ignore[union-attr]
            proc.kill()
            proc.wait(30)
            answered_before_kill = len(answers)
            proc = env.service_process(*factory)
            deadline = time.monotonic() + 90
            while len(answers) < len(commands) and time.monotonic() < deadline:
                for record in responses.poll_batch(50, 0.5):
                    message = client._decode(record)
                    if getattr(message, "in_response_to", None) in wanted:
                        answers[message.in_response_to] = message  # type: ignore[union-attr]
    finally:
        stop_process(proc)
    assert answered_before_kill < len(commands), "the kill came after the whole stream"
    assert set(answers) == {c.message_id for c in commands}
    assert all(isinstance(a, AgentCreatedResponse) for a in answers.values()), [
        a for a in answers.values() if isinstance(a, ErrorResponse)
    ]
    assert sorted(env.changelog_state()) == sorted(["warm-up", *(c.agent_id for c in commands)])


@pytest.mark.slow
def test_the_service_survives_a_broker_restart(
    broker_factory: Any, registry_url: str, topic_prefix: str, tmp_path: Any
) -> None:
    broker = broker_factory()
    env = Env(broker.bootstrap_servers, registry_url, topic_prefix, tmp_path / "state")
    env.start_service()
    try:
        with env.client() as client:
            assert isinstance(client.request(CreateAgentCommand(agent_id="r"), timeout=30),
                              AgentCreatedResponse)  # fmt: skip
        broker.restart()  # same port; the dev broker keeps nothing, not even topics
        with env.client() as client:
            deadline = time.monotonic() + 90
            reply = None
            while reply is None and time.monotonic() < deadline:
                try:
                    reply = client.request(
                        ProcessMessageCommand(agent_id="r", content="back?"), timeout=15
                    )
                except ClubhouseError:  # retried until the deadline, then asserted
                    time.sleep(1)
        assert isinstance(reply, MessageProcessedResponse)
        assert (
            reply.content
            == "I don't know how to answer 'back?' yet. Say 'help' to see what I can do."
        )
        [(_, _, thread)] = env.threads
        assert thread.is_alive()
    finally:
        env.stop_services()
