"""Delivery failures and broker restarts, each on a private broker (Tansu and Kafka).

Tansu keeps everything in memory, so a restart also loses topics, committed offsets and the
producer ids it handed out; the wrappers have to come back from all of that. Kafka keeps
its log, so after a restart a group consumer may get an uncommitted record again.
"""

from __future__ import annotations

import logging
import time

import pytest

from clubhouse.services.kafka import (
    OFFSET_BEGINNING,
    DeliveryError,
    DeliveryTimeoutError,
    KafkaAdmin,
    KafkaConsumer,
    KafkaProducer,
    KafkaSettings,
    TopicOffset,
)
from tests.conftest import BrokerFactory

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)


def _settings(bootstrap: str, **extra: str | int) -> KafkaSettings:
    return KafkaSettings(bootstrap, client_id="failures", dev_tuning=True, extra=extra)


def test_undelivered_record_is_a_delivery_error_naming_topic_and_reason(
    broker_factory: BrokerFactory,
) -> None:
    broker = broker_factory()
    # Long enough for the first record on a busy machine (a new topic's leader, the first
    # connection), short enough for the one after the stop to time out soon.
    settings = _settings(broker.bootstrap_servers, **{"message.timeout.ms": 4000})
    KafkaAdmin(settings).ensure_topics(["orders"])
    producer = KafkaProducer(settings)
    producer.send("orders", None, b"before")
    broker.stop()
    with pytest.raises(DeliveryError) as info:
        producer.send("orders", None, b"lost", timeout=20)
    assert not isinstance(info.value, DeliveryTimeoutError)  # librdkafka's verdict, not ours
    assert info.value.topic == "orders"
    assert info.value.code == "_MSG_TIMED_OUT"
    assert "delivery to topic 'orders'" in str(info.value)
    assert "timed out" in str(info.value)
    producer.close(0.5)


def test_a_timed_out_record_is_withdrawn_not_delivered_later(
    broker_factory: BrokerFactory,
) -> None:
    broker = broker_factory()
    settings = _settings(broker.bootstrap_servers)
    producer = KafkaProducer(settings)
    KafkaAdmin(settings).ensure_topics(["orders"])
    broker.stop()
    with pytest.raises(DeliveryTimeoutError, match="'orders'.*no acknowledgement within 0.5 s"):
        producer.send("orders", None, b"withdrawn", timeout=0.5)

    broker.start()
    KafkaAdmin(settings).ensure_topics(["orders"])
    producer.send("orders", None, b"after", timeout=20)
    reader = KafkaConsumer(settings)
    reader.assign([TopicOffset("orders", 0, OFFSET_BEGINNING)])
    seen = [r.value for r in reader.poll_batch(1, 5.0)]
    seen += [r.value for r in reader.poll_batch(10, 0.3)]  # and nothing after it
    reader.close()
    producer.close(5)
    assert seen == [b"after"]


@pytest.mark.slow
def test_idempotent_producer_and_group_consumer_survive_a_broker_restart(
    broker_kind: str, broker_factory: BrokerFactory
) -> None:
    broker = broker_factory()
    settings = _settings(broker.bootstrap_servers)
    KafkaAdmin(settings).ensure_topics(["orders"])
    producer = KafkaProducer(settings, idempotence=True)
    consumer = KafkaConsumer(settings, group_id="restart")
    consumer.subscribe(["orders"])
    producer.send("orders", None, b"before")
    assert _poll_value(consumer, 15) == b"before"

    broker.restart()  # Tansu: topics, offsets and producer ids are gone; Kafka keeps them
    restarted = time.monotonic()
    KafkaAdmin(settings).ensure_topics(["orders"])
    timeouts = 0
    for _ in range(10):
        try:
            producer.send("orders", None, b"after", timeout=2)
            break
        except DeliveryTimeoutError:
            timeouts += 1
    else:
        pytest.fail("the producer never delivered again after the broker restart")
    delivered = time.monotonic() - restarted
    seen = _poll_until(consumer, b"after", 20)
    if broker_kind == "tansu":
        assert seen == [b"after"]
    else:
        # Nothing was committed and the group rebalanced during the restart: at least once.
        assert seen in ([b"after"], [b"before", b"after"]), seen
    log.info(
        "recovered from a broker restart",
        extra={
            "send_timeouts": timeouts,
            "delivered_after_s": round(delivered, 2),
            "consumed_after_s": round(time.monotonic() - restarted, 2),
        },
    )
    consumer.close()
    producer.close(5)


def _poll_until(consumer: KafkaConsumer, value: bytes, timeout: float) -> list[bytes | None]:
    """Every value polled up to and including ``value`` (or until ``timeout``)."""
    seen: list[bytes | None] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and value not in seen:
        record = consumer.poll(0.5)
        if record is not None:
            seen.append(record.value)
    return seen


def _poll_value(consumer: KafkaConsumer, timeout: float) -> bytes | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = consumer.poll(0.5)
        if record is not None:
            return record.value
    return None
