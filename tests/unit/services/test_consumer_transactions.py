"""KafkaConsumer's transaction support over a fake librdkafka consumer: rebalance
listeners, seek, group metadata, read_to_end, isolation level."""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import pytest
from confluent_kafka import KafkaError, TopicPartition

from clubhouse.services.kafka import (
    ConsumedRecord,
    ConsumeError,
    KafkaConfigError,
    KafkaConsumer,
    KafkaSettings,
    ReadToEndTimeoutError,
    RebalanceListenerError,
    TopicOffset,
)
from tests.fakes.kafka import FakeConsumer, FakeMessage

SETTINGS = KafkaSettings("k:9092", client_id="unit")


def _consumer(
    *messages: FakeMessage, group_id: str | None = "g", **options: Any
) -> tuple[KafkaConsumer, FakeConsumer]:
    made: list[FakeConsumer] = []

    def factory(conf: dict[str, Any]) -> FakeConsumer:
        made.append(FakeConsumer(conf, messages=deque(messages)))
        return made[0]

    return KafkaConsumer(SETTINGS, group_id=group_id, consumer_factory=factory, **options), made[0]


class Listener:
    def __init__(self, fail_on: str | None = None) -> None:
        self.events: list[tuple[str, list[tuple[str, int]]]] = []
        self.fail_on = fail_on

    def _event(self, name: str, partitions: list[tuple[str, int]]) -> None:
        self.events.append((name, partitions))
        if name == self.fail_on:
            raise RuntimeError("restore failed")

    def on_assigned(self, partitions: list[tuple[str, int]]) -> None:
        self._event("assigned", partitions)

    def on_revoked(self, partitions: list[tuple[str, int]]) -> None:
        self._event("revoked", partitions)

    def on_lost(self, partitions: list[tuple[str, int]]) -> None:
        self._event("lost", partitions)


def test_every_consumer_is_read_committed_unless_told_otherwise() -> None:
    _, fake = _consumer()
    assert fake.conf["isolation.level"] == "read_committed"
    assert fake.conf["enable.partition.eof"] is False
    _, fake = _consumer(isolation_level="read_uncommitted", partition_eof=True)
    assert fake.conf["isolation.level"] == "read_uncommitted"
    assert fake.conf["enable.partition.eof"] is True


def test_the_listener_hears_of_assignment_revocation_and_loss_after_the_bookkeeping() -> None:
    consumer, fake = _consumer()
    listener = Listener()
    consumer.subscribe(["t"], listener)
    fake.callbacks["on_assign"](fake, [TopicPartition("t", 0), TopicPartition("t", 1)])
    fake.callbacks["on_revoke"](fake, [TopicPartition("t", 0)])
    assert consumer.assignment() == [("t", 1)]
    fake.callbacks["on_lost"](fake, [TopicPartition("t", 1)])
    assert consumer.assignment() == []
    assert listener.events == [
        ("assigned", [("t", 0), ("t", 1)]),
        ("revoked", [("t", 0)]),
        ("lost", [("t", 1)]),
    ]


def test_a_failing_listener_is_logged_and_raised_from_poll_keeping_the_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer, fake = _consumer(FakeMessage(offset_=4))
    consumer.subscribe(["t"], Listener(fail_on="assigned"))
    fake.assign_after_polls = [TopicPartition("t", 0)]
    with caplog.at_level(logging.ERROR), pytest.raises(RebalanceListenerError) as caught:
        consumer.poll(1.0)
    assert caught.value.partitions == (("t", 0),)
    assert "on_assigned" in str(caught.value)
    assert "t/0" in str(caught.value)
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert consumer.assignment() == [("t", 0)]  # the callback itself completed
    (logged,) = [r for r in caplog.records if r.message == "rebalance listener failed"]
    assert logged.partitions == [("t", 0)]  # type: ignore[attr-defined]
    record = consumer.poll(1.0)
    assert record is not None
    assert record.offset == 4


def test_seek_moves_assigned_partitions_and_drops_their_held_records() -> None:
    consumer, fake = _consumer()
    consumer.assign([TopicOffset("t", 0, 0)])
    consumer.seek([TopicOffset("t", 0, 3)])
    (tp,) = fake.seeks
    assert (tp.topic, tp.partition, tp.offset) == ("t", 0, 3)
    with pytest.raises(ConsumeError, match=r"not assigned: \[\('t', 1\)\]"):
        consumer.seek([TopicOffset("t", 1, 0)])


def test_group_metadata_needs_a_group() -> None:
    consumer, _ = _consumer()
    assert consumer.group_metadata() == "group-metadata"
    reader, _ = _consumer(group_id=None)
    with pytest.raises(KafkaConfigError, match="no group_id"):
        reader.group_metadata()


def _eof(offset: int, partition: int = 0) -> FakeMessage:
    return FakeMessage(
        partition_=partition, offset_=offset, error_=KafkaError(KafkaError._PARTITION_EOF)
    )


def test_read_to_end_hands_over_records_until_the_eof_event_and_returns_its_offset() -> None:
    consumer, fake = _consumer(
        FakeMessage(offset_=5, value_=b"a"),
        _eof(9, partition=1),  # another partition's end is not this one's
        FakeMessage(offset_=6, value_=b"b"),
        _eof(8),
        FakeMessage(offset_=9, value_=b"after the end"),
        group_id=None,
        partition_eof=True,
    )
    got: list[ConsumedRecord] = []
    assert consumer.read_to_end(TopicOffset("t", 0, 5), 1.0, got.append) == 8
    assert [r.value for r in got] == [b"a", b"b"]
    (tp,) = fake.assigned
    assert (tp.topic, tp.partition, tp.offset) == ("t", 0, 5)


def test_read_to_end_times_out_naming_the_partition_and_how_far_it_got() -> None:
    consumer, _ = _consumer(FakeMessage(offset_=5), group_id=None, partition_eof=True)
    with pytest.raises(ReadToEndTimeoutError) as caught:
        consumer.read_to_end(TopicOffset("t", 0, 5), 0.2, lambda r: None)
    assert (caught.value.topic, caught.value.partition) == ("t", 0)
    assert (caught.value.start, caught.value.reached, caught.value.records) == (5, 6, 1)
    assert "partition 0" in str(caught.value)
    assert "'t'" in str(caught.value)


def test_read_to_end_needs_eof_events_and_no_group() -> None:
    consumer, _ = _consumer(group_id=None)
    with pytest.raises(KafkaConfigError, match="partition_eof"):
        consumer.read_to_end(TopicOffset("t", 0, 0), 1.0, lambda r: None)
    grouped, _ = _consumer(partition_eof=True)
    with pytest.raises(KafkaConfigError, match="without a group"):
        grouped.read_to_end(TopicOffset("t", 0, 0), 1.0, lambda r: None)
