"""PublishGuard: records the broker will never take are replaced, never left to block."""

from __future__ import annotations

from collections import Counter
from uuid import uuid4

from clubhouse.agents.messages import MessageProcessedResponse
from clubhouse.contracts import ErrorResponse
from clubhouse.messaging.outbound import Origin, Outbound, RecordBuilder
from clubhouse.messaging.processor import DLQ_REASON, DLQ_SOURCE
from clubhouse.messaging.publish_guard import (
    DLQ_ORIGINAL_SIZE,
    DLQ_ORIGINAL_TOPIC,
    DLQ_TRUNCATED,
    PublishGuard,
    SizeLimits,
    record_size,
)
from tests.apps.harness import Harness

ORIGIN = Origin(uuid4(), b"agent-7", "t-commands/1/42")


def guard(h: Harness, limits: SizeLimits) -> tuple[PublishGuard, Counter[str]]:
    counted: Counter[str] = Counter()
    records = RecordBuilder(h.serde, "t")
    g = PublishGuard(
        limits,
        responses_topic="t-responses",
        dead_letter_topic="t-dead-letters",
        error_record=records.error_record,
        count_failure=lambda reason: counted.update([reason]),
    )
    return g, counted


def big_response(h: Harness, size: int) -> Outbound:
    reply = MessageProcessedResponse(
        agent_id="a", content="x" * size, in_response_to=ORIGIN.command_id
    )
    return RecordBuilder(h.serde, "t").record(reply, ORIGIN)


def test_a_record_within_the_limits_passes_unchanged() -> None:
    h = Harness()
    g, counted = guard(h, SizeLimits(10_000))
    record = big_response(h, 100)
    assert g.fit(record) is record
    assert not counted


def test_an_oversized_response_becomes_an_error_response_naming_both_sizes() -> None:
    h = Harness()
    g, counted = guard(h, SizeLimits(1_000_000, {"t-responses": 50_000}))
    record = big_response(h, 60_000)
    fitted = g.fit(record)
    assert fitted is not None and fitted.replacement
    assert fitted.topic == "t-responses"
    assert fitted.key == b"agent-7"  # keyed like the command: ordered with the agent's others
    reply = h.serde.deserialize(fitted.value)
    assert isinstance(reply, ErrorResponse)
    assert reply.error_type == "message_too_large"
    assert reply.in_response_to == ORIGIN.command_id
    assert f"{record_size(record)} bytes" in reply.error_message
    assert "50000 bytes" in reply.error_message  # the topic's limit, lower than the producer's
    assert reply.details["limit_bytes"] == 50_000
    assert counted == {"message_too_large": 1}


def test_when_even_the_error_response_is_too_large_a_truncated_dead_letter_goes_out() -> None:
    h = Harness()
    # Responses take almost nothing; dead letters take a little more.
    g, counted = guard(h, SizeLimits(1_000_000, {"t-responses": 200, "t-dead-letters": 1_000}))
    record = big_response(h, 5_000)
    fitted = g.fit(record)
    assert fitted is not None
    assert fitted.topic == "t-dead-letters"
    headers = dict(fitted.headers)
    assert headers[DLQ_REASON] == b"message_too_large"
    assert headers[DLQ_SOURCE] == b"t-commands/1/42"
    assert headers[DLQ_ORIGINAL_TOPIC] == b"t-responses"
    assert headers[DLQ_TRUNCATED] == b"true"
    assert int(headers[DLQ_ORIGINAL_SIZE]) == record_size(record)  # the original is parked
    assert fitted.value == record.value[: len(fitted.value)]
    assert record_size(fitted) <= 1_000
    assert counted == {"message_too_large": 2}


def test_an_oversized_event_is_dead_lettered_not_answered_twice() -> None:
    h = Harness()
    g, _ = guard(h, SizeLimits(2_000))
    from clubhouse.agents.messages import AgentThinkingEvent

    event = RecordBuilder(h.serde, "t").record(AgentThinkingEvent(agent_id="a" * 3_000), ORIGIN)
    fitted = g.fit(event)
    assert fitted is not None and fitted.topic == "t-dead-letters"


def test_a_dead_letter_that_cannot_be_published_is_dropped_and_counted() -> None:
    h = Harness()
    g, counted = guard(h, SizeLimits(1_000_000))
    dead = Outbound("t-dead-letters", None, b"x", [(DLQ_REASON, b"bad_framing")])
    assert g.replace(dead, "not_authorized", "TOPIC_AUTHORIZATION_FAILED") is None
    assert counted == {"not_authorized": 1}


def test_a_response_refused_for_another_reason_is_answered_with_publish_failed() -> None:
    h = Harness()
    g, _ = guard(h, SizeLimits(1_000_000))
    replacement = g.replace(big_response(h, 10), "invalid_record", "broker said INVALID_RECORD")
    assert replacement is not None
    reply = h.serde.deserialize(replacement.value)
    assert isinstance(reply, ErrorResponse)
    assert reply.error_type == "publish_failed"
    assert "INVALID_RECORD" in reply.error_message
