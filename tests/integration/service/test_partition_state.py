"""State that lives in the changelog: rebuilt by a fresh instance, deduplicated across
restarts, forwarded to its owner when keyed wrong, committed in transactions (or not)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from clubhouse.agents.messages import (
    AgentCreatedResponse,
    CreateAgentCommand,
    MessageProcessedResponse,
    ProcessMessageCommand,
    agents_catalog,
)
from clubhouse.messaging.serde import MessageSerde
from clubhouse.services.kafka import KafkaProducer
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings
from tests.integration.service.conftest import Env

pytestmark = pytest.mark.integration


def metric(port: int | None, name: str, labels: str = "") -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


def test_a_fresh_state_dir_is_rebuilt_from_the_changelog(env: Env, tmp_path: Path) -> None:
    env.start_service()
    agents = [f"agent-{i}" for i in range(10)]
    with env.client() as client:
        answers = client.request_many(
            [CreateAgentCommand(agent_id=a, personality_type="echo") for a in agents], 60
        )
        assert all(isinstance(a, AgentCreatedResponse) for a in answers.values())
    env.stop_services()
    service = env.start_service(state_dir=tmp_path / "empty", metrics_port=0)
    with env.client() as client:
        replies = client.request_many(
            [ProcessMessageCommand(agent_id=a, content=a) for a in agents], 60
        )
    assert sorted(r.content for r in replies.values()  # type: ignore[attr-defined]
                  if isinstance(r, MessageProcessedResponse)) == agents  # fmt: skip
    assert metric(service.metrics_port, "clubhouse_state_restored_records_total") >= len(agents)
    assert sorted(env.changelog_state()) == agents


def test_the_same_message_id_twice_acts_once_even_after_the_state_moved(
    env: Env, tmp_path: Path
) -> None:
    env.start_service()
    create = CreateAgentCommand(agent_id="once", personality_type="echo")
    with env.client() as client:
        first = client.request(create, timeout=60)
        again = client.request(create, timeout=30)
    assert isinstance(first, AgentCreatedResponse)
    # The stored response, not a second effect ("agent_exists").
    assert again == first
    env.stop_services()
    env.start_service(state_dir=tmp_path / "elsewhere")
    with env.client() as client:
        moved = client.request(create, timeout=60)
    assert moved == first


def test_a_command_keyed_otherwise_is_forwarded_to_the_owner_of_its_key(env: Env) -> None:
    env.start_service()
    with env.client() as client:
        client.request(CreateAgentCommand(agent_id="keyed", personality_type="echo"), 60)
        registry = ConfluentSchemaRegistry.from_settings(
            RegistrySettings(urls=[env.registry_url])
        )
        serde = MessageSerde(registry, agents_catalog(), env.prefix)
        serde.prepare()
        ask = ProcessMessageCommand(agent_id="keyed", content="no key")
        producer = KafkaProducer(env.kafka)
        responses = client._response_reader()
        producer.send(f"{env.prefix}-commands", None, serde.serialize(ask))
        producer.close()
        answer: Any = None
        deadline = time.monotonic() + 60
        while answer is None and time.monotonic() < deadline:
            for record in responses.poll_batch(50, 0.5):
                message = client._decode(record)
                if getattr(message, "in_response_to", None) == ask.message_id:
                    answer = message
        registry.close()
    assert isinstance(answer, MessageProcessedResponse)
    assert answer.content == "no key"


@pytest.mark.parametrize("guarantee", ["exactly-once", "at-least-once"])
def test_the_processing_guarantee_decides_whether_batches_are_transactions(
    env: Env, guarantee: str
) -> None:
    service = env.start_service(processing_guarantee=guarantee, metrics_port=0)
    with env.client() as client:
        reply = client.request(CreateAgentCommand(agent_id="g"), timeout=60)
    assert isinstance(reply, AgentCreatedResponse)
    commits = metric(service.metrics_port, "clubhouse_transactions_total", 'outcome="commit"')
    assert (commits >= 1) == (guarantee == "exactly-once")
    assert list(env.changelog_state()) == ["g"]
