"""Outputs the broker will never take (too large, say) must not stop the service."""

from __future__ import annotations

import httpx
import pytest

from clubhouse.agents.messages import (
    AgentCreatedResponse,
    CreateAgentCommand,
    MessageProcessedResponse,
    ProcessMessageCommand,
)
from clubhouse.contracts import ErrorResponse
from clubhouse.services.kafka_admin import KafkaAdmin, TopicSpec
from tests.integration.service.big_agents import make as tripling_factory
from tests.integration.service.conftest import Env

pytestmark = pytest.mark.integration

# The command fits under the producer's default message.max.bytes (1,000,000); the
# tripling agent's reply is three times as large, so no producer default will take it.
CONTENT = 400_000


def test_a_reply_too_large_to_publish_is_answered_with_an_error_and_the_loop_goes_on(
    env: Env,
) -> None:
    service = env.start_service(metrics_port=0, agent_factory=tripling_factory)
    with env.client() as client:
        created = client.request(
            CreateAgentCommand(agent_id="big", personality_type="tripling"), timeout=30
        )
        assert isinstance(created, AgentCreatedResponse)
        huge = ProcessMessageCommand(agent_id="big", content="x" * CONTENT)
        reply = client.request(huge, timeout=30)
        assert isinstance(reply, ErrorResponse), reply
        assert reply.error_type == "message_too_large"
        assert reply.in_response_to == huge.message_id
        # Both sizes are named: what the record was, and the limit it broke.
        assert "bytes" in reply.error_message
        assert str(1_000_000) in reply.error_message, reply.error_message
        after = client.request(ProcessMessageCommand(agent_id="big", content="ok?"), timeout=30)
    assert isinstance(after, MessageProcessedResponse)
    assert after.content == "ok?" * 3
    base = f"http://127.0.0.1:{service.metrics_port}"
    assert httpx.get(f"{base}/readyz").status_code == 200  # nothing waits: not stalled
    metrics = httpx.get(f"{base}/metrics").text
    assert 'clubhouse_permanent_publish_failures_total{reason="message_too_large"' in metrics


def test_sizes_are_checked_against_the_topics_own_limit(env: Env) -> None:
    # An operator created the responses topic with a small limit before the service started.
    KafkaAdmin(env.kafka).ensure_topics(
        [TopicSpec(f"{env.prefix}-responses", 2, config={"max.message.bytes": "20000"})]
    )
    env.start_service(agent_factory=tripling_factory)
    with env.client() as client:
        client.request(CreateAgentCommand(agent_id="t", personality_type="tripling"), timeout=30)
        fits = client.request(ProcessMessageCommand(agent_id="t", content="a" * 5_000), timeout=30)
        too_big = ProcessMessageCommand(agent_id="t", content="b" * 8_000)
        reply = client.request(too_big, timeout=30)
    assert isinstance(fits, MessageProcessedResponse)
    assert isinstance(reply, ErrorResponse)
    assert reply.error_type == "message_too_large"
    assert reply.details["limit_bytes"] == 20_000
    assert "20000 bytes" in reply.error_message
