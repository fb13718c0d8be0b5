"""KafkaAdmin's topic creation over a fake AdminClient, and the error-log throttle."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from confluent_kafka import KafkaError

from clubhouse.services.kafka import KafkaAdmin, KafkaSettings, TopicAdminError, TopicSpec
from clubhouse.services.kafka_events import ClientErrorMonitor
from tests.fakes.kafka import FakeAdmin

SETTINGS = KafkaSettings("k:9092", client_id="unit")


def _admin(**fake: Any) -> tuple[KafkaAdmin, FakeAdmin]:
    made: list[FakeAdmin] = []

    def factory(conf: dict[str, Any]) -> FakeAdmin:
        made.append(FakeAdmin(conf, **fake))
        return made[0]

    return KafkaAdmin(SETTINGS, admin_factory=factory), made[0]


def test_only_missing_topics_are_created() -> None:
    admin, fake = _admin(topics={"old": 1})
    assert admin.ensure_topics(["old", TopicSpec("new", partitions=4)]) == ["new"]
    assert fake.topics == {"old": 1, "new": 4}


def test_a_topic_created_concurrently_counts_as_existing() -> None:
    admin, _ = _admin(create_errors={"raced": KafkaError(KafkaError.TOPIC_ALREADY_EXISTS)})
    assert admin.ensure_topics(["raced"]) == []


def test_a_refused_creation_names_the_topic() -> None:
    admin, _ = _admin(
        create_errors={"bad": KafkaError(KafkaError.INVALID_REPLICATION_FACTOR, "rf 3 > 1 broker")}
    )
    with pytest.raises(TopicAdminError, match="topic 'bad' failed: rf 3 > 1 broker"):
        admin.ensure_topics([TopicSpec("bad", replication_factor=3)])


def test_transient_errors_are_logged_once_per_quiet_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    monitor = ClientErrorMonitor("c", logging.getLogger("t"), quiet_period=30, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for _ in range(50):
            monitor(KafkaError(KafkaError._TRANSPORT, "refused"))
        now[0] = 31.0
        monitor(KafkaError(KafkaError._TRANSPORT, "refused"))
    assert len(caplog.records) == 2
    assert caplog.records[1].repeats_since_last_log == 49
    assert monitor.fatal is None


def test_a_fatal_error_is_latched() -> None:
    monitor = ClientErrorMonitor("c", logging.getLogger("t"))
    monitor(KafkaError(KafkaError._FATAL, "boom", fatal=True))
    assert monitor.fatal is not None
    assert "boom" in str(monitor.fatal)
