"""KafkaConsumer over a fake librdkafka consumer: error triage, commits, assignment."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, TopicPartition

from clubhouse.runtime.committers import next_offsets
from clubhouse.services.kafka import (
    CommitError,
    ConsumedRecord,
    ConsumeError,
    FatalKafkaError,
    KafkaConsumer,
    KafkaSettings,
    TopicOffset,
)
from tests.fakes.kafka import FakeConsumer, FakeMessage

SETTINGS = KafkaSettings("k:9092", client_id="unit")


def _consumer(*messages: FakeMessage, **fake: Any) -> tuple[KafkaConsumer, FakeConsumer]:
    made: list[FakeConsumer] = []

    def factory(conf: dict[str, Any]) -> FakeConsumer:
        made.append(FakeConsumer(conf, messages=deque(messages), **fake))
        return made[0]

    return KafkaConsumer(SETTINGS, group_id="g", consumer_factory=factory), made[0]


def _error(code: int, fatal: bool = False) -> FakeMessage:
    return FakeMessage(error_=KafkaError(code, "reason", fatal=fatal))


def test_config_commits_manually() -> None:
    _, fake = _consumer()
    assert fake.conf["enable.auto.commit"] is False
    assert fake.conf["group.id"] == "g"


def test_transient_errors_are_skipped_and_the_next_record_returned() -> None:
    consumer, _ = _consumer(
        _error(KafkaError._TRANSPORT),
        _error(KafkaError.UNKNOWN_TOPIC_OR_PART),
        _error(KafkaError._PARTITION_EOF),
        FakeMessage(offset_=7, key_=b"k", headers_=[("h", b"1")]),
    )
    record = consumer.poll(1.0)
    assert record == ConsumedRecord("t", 0, 7, b"k", b"v", (("h", b"1"),), 1000)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (_error(KafkaError.TOPIC_AUTHORIZATION_FAILED), ConsumeError),
        (_error(KafkaError._AUTO_OFFSET_RESET), ConsumeError),
        (_error(KafkaError.UNKNOWN_MEMBER_ID, fatal=True), FatalKafkaError),
    ],
)
def test_errors_that_need_a_human_are_raised(message: FakeMessage, error: type[Exception]) -> None:
    consumer, _ = _consumer(message)
    with pytest.raises(error, match="reason"):
        consumer.poll(1.0)


def test_poll_batch_skips_transient_errors() -> None:
    consumer, _ = _consumer(
        FakeMessage(offset_=1), _error(KafkaError._TRANSPORT), FakeMessage(offset_=2)
    )
    assert [r.offset for r in consumer.poll_batch(10, 0.1)] == [1, 2]


def test_poll_batch_waits_for_the_first_record_only() -> None:
    # librdkafka's consume(n, timeout) holds on until it has n records or the timeout passed:
    # a batch waits for one record with the timeout, then takes what is there without waiting.
    consumer, fake = _consumer(FakeMessage(offset_=1), FakeMessage(offset_=2))
    calls: list[tuple[int, float]] = []
    consume = fake.consume

    def recording(num: int, timeout: float) -> list[FakeMessage]:
        calls.append((num, timeout))
        return consume(num, timeout)

    fake.consume = recording  # type: ignore[method-assign]
    assert [r.offset for r in consumer.poll_batch(10, 0.5)] == [1, 2]
    (first_num, first_timeout), rest = calls[0], calls[1:]
    assert first_num == 1
    assert 0 < first_timeout <= 0.5
    assert rest == [(9, 0)]
    calls.clear()
    assert consumer.poll_batch(10, 0.5) == []  # nothing came: no second, non-waiting call
    assert [num for num, _ in calls] == [1]


def test_committing_past_records_commits_past_the_highest_offset_per_partition() -> None:
    consumer, fake = _consumer()
    records = [
        ConsumedRecord("a", 0, 5, None, None),
        ConsumedRecord("a", 0, 3, None, None),
        ConsumedRecord("a", 1, 9, None, None),
    ]
    consumer.commit(next_offsets(records))
    assert [(tp.topic, tp.partition, tp.offset) for tp in fake.commits[0]] == [
        ("a", 0, 6),
        ("a", 1, 10),
    ]


def test_a_partition_level_commit_failure_is_a_commit_error() -> None:
    # TopicPartition.error is read-only in Python; librdkafka fills it in on a failed commit.
    failed = SimpleNamespace(
        topic="a", partition=0, offset=6,
        error=KafkaError(KafkaError.REBALANCE_IN_PROGRESS, "rebalancing"),
    )  # fmt: skip
    consumer, _ = _consumer(commit_result=[failed])
    with pytest.raises(CommitError, match="for a failed: rebalancing.*REBALANCE_IN_PROGRESS"):
        consumer.commit([TopicOffset("a", 0, 6)])


def test_waiting_for_the_assignment_keeps_records_seen_meanwhile() -> None:
    consumer, _ = _consumer(FakeMessage(offset_=4), assign_after_polls=[TopicPartition("a", 0)])
    consumer.subscribe(["a"])
    assert consumer.wait_for_assignment(5.0) == [("a", 0)]
    record = consumer.poll(0.0)
    assert record is not None
    assert record.offset == 4
