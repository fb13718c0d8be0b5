"""``end_offsets`` on a topic whose partition leaders are still being elected."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from clubhouse.services.kafka import ConsumeError, KafkaConsumer, KafkaSettings, TopicOffset


class LeaderlessConsumer:
    """A topic of two partitions whose watermark calls answer ``errors`` first, then 7."""

    def __init__(self, conf: dict[str, Any], errors: list[int]) -> None:
        self.errors = deque(errors)
        self.calls = 0

    def list_topics(self, topic: str, timeout: float) -> Any:
        partitions = {0: None, 1: None}
        return SimpleNamespace(topics={topic: SimpleNamespace(partitions=partitions, error=None)})

    def get_watermark_offsets(self, tp: TopicPartition, timeout: float) -> tuple[int, int]:
        self.calls += 1
        if self.errors:
            raise KafkaException(KafkaError(self.errors.popleft()))
        return 0, 7


def _consumer(errors: list[int]) -> tuple[KafkaConsumer, LeaderlessConsumer]:
    made: list[LeaderlessConsumer] = []

    def factory(conf: dict[str, Any]) -> LeaderlessConsumer:
        made.append(LeaderlessConsumer(conf, errors))
        return made[0]

    return KafkaConsumer(KafkaSettings("x:1"), consumer_factory=factory), made[0]


def test_a_partition_without_a_leader_yet_is_asked_again() -> None:
    # Measured on Kafka 4.1: a topic just created is in the metadata before its leader
    # answers ListOffsets, which then fails with NOT_LEADER_FOR_PARTITION for a moment.
    consumer, fake = _consumer(
        [KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE]
    )
    assert consumer.end_offsets("t", timeout=5) == [TopicOffset("t", 0, 7), TopicOffset("t", 1, 7)]
    assert fake.calls == 4


def test_a_leader_that_never_comes_is_an_error_at_the_timeout() -> None:
    consumer, _ = _consumer([KafkaError.NOT_LEADER_FOR_PARTITION] * 1000)
    with pytest.raises(ConsumeError, match="NOT_LEADER_FOR_PARTITION"):
        consumer.end_offsets("t", timeout=0.3)


def test_an_error_retrying_cannot_fix_is_raised_at_once() -> None:
    consumer, fake = _consumer([KafkaError.TOPIC_AUTHORIZATION_FAILED])
    with pytest.raises(ConsumeError, match="TOPIC_AUTHORIZATION_FAILED"):
        consumer.end_offsets("t", timeout=5)
    assert fake.calls == 1
