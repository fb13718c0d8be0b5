"""TransactionDeadlines and how the transactional producer keeps to them: no call of a
transaction waits past the transaction's own timeout, and a stuck one is replaced soon."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from clubhouse.runtime.transactional_producer import TransactionalProducer
from clubhouse.services.kafka import KafkaSettings, TopicOffset
from clubhouse.services.kafka_deadlines import TransactionDeadlines
from clubhouse.services.kafka_errors import TransactionFencedError
from tests.unit.runtime.test_transactions import FakeTxnProducer

SETTINGS = KafkaSettings("k:9092", client_id="unit")
OFFSETS = [TopicOffset("in", 0, 5)]


@dataclass
class RecordingTxnProducer(FakeTxnProducer):
    """Notes the timeout each transactional call is given; ``offsets_block`` holds
    send_offsets_to_transaction until set, as librdkafka does once its coordinator died."""

    timeouts: dict[str, list[float]] = field(default_factory=dict)
    offsets_block: threading.Event | None = None

    def send_offsets_to_transaction(self, offsets: Any, metadata: Any, timeout: float) -> None:
        self.timeouts.setdefault("send_offsets", []).append(timeout)
        if self.offsets_block is not None:
            self.offsets_block.wait()
        super().send_offsets_to_transaction(offsets, metadata, timeout)

    def abort_transaction(self, timeout: float) -> None:
        self.timeouts.setdefault("abort", []).append(timeout)
        super().abort_transaction(timeout)


class Factory:
    def __init__(self, **fake_kwargs: Any) -> None:
        self.instances: list[RecordingTxnProducer] = []
        self.kwargs = fake_kwargs

    def __call__(self, conf: dict[str, Any]) -> RecordingTxnProducer:
        fake = RecordingTxnProducer(conf, **self.kwargs)
        self.kwargs.pop("offsets_block", None)  # only the first client gets stuck
        self.instances.append(fake)
        return fake


def _producer(factory: Factory, transaction_timeout_ms: int) -> TransactionalProducer:
    producer = TransactionalProducer(
        SETTINGS, transactional_id="tx-1", producer_factory=factory,
        transaction_timeout_ms=transaction_timeout_ms,
    )  # fmt: skip
    producer.init(1.0)
    return producer


def test_a_step_is_a_quarter_of_the_transaction_and_at_most_a_request() -> None:
    assert TransactionDeadlines.derive(SETTINGS, 10_000).step_s == 2.5
    quick = KafkaSettings("k:9092", extra={"request.timeout.ms": 1000})
    assert TransactionDeadlines.derive(quick, 10_000).step_s == 1.0
    deadlines = TransactionDeadlines(transaction_s=10.0, request_s=30.0)
    assert deadlines.step(30.0) == 2.5
    assert deadlines.step(1.0) == 1.0
    assert deadlines.watchdog_s(2.5) == 3.75
    assert deadlines.release_s == 2.5
    with pytest.raises(ValueError, match="positive"):
        TransactionDeadlines(transaction_s=0.0, request_s=30.0)


def test_no_call_of_a_transaction_waits_past_the_transaction_timeout() -> None:
    factory = Factory()
    producer = _producer(factory, transaction_timeout_ms=10_000)
    producer.begin()
    producer.send_offsets(OFFSETS, "group-metadata", 30.0)
    producer.abort(30.0)
    timeouts = factory.instances[0].timeouts
    assert max(timeouts["send_offsets"]) <= 10.0
    assert max(timeouts["abort"]) <= 10.0


def test_a_stuck_send_offsets_is_replaced_within_the_transaction_timeout() -> None:
    stuck = threading.Event()
    factory = Factory(offsets_block=stuck)
    producer = _producer(factory, transaction_timeout_ms=400)
    # Let the stuck call go in the end even if the watchdog waited for the caller's 30 s
    # (as it used to): the test then fails on what it finds instead of hanging.
    threading.Timer(5.0, stuck.set).start()
    try:
        producer.begin()
        with pytest.raises(TransactionFencedError, match="_STUCK"):
            producer.send_offsets(OFFSETS, "group-metadata", 30.0)
        old, new = factory.instances
        assert producer.abandoned.tracked == 1
        producer.init(1.0)
        producer.begin()
        assert new.calls[-1] == "begin_transaction"
    finally:
        stuck.set()
    for _ in range(500):  # the stuck call returns: its thread closes the client
        if old.closed:
            break
        threading.Event().wait(0.01)
    assert old.closed
    assert producer.abandoned.tracked == 0


def test_a_rebuild_registers_the_new_client_while_the_old_one_closes() -> None:
    order: list[str] = []
    registered = threading.Event()

    @dataclass
    class SlowToClose(RecordingTxnProducer):
        """Its close() (an abort first) answers only once the new client has registered."""

        def close(self) -> bool:
            order.append("close begins")
            registered.wait()
            order.append("close ends")
            return super().close()

        def init_transactions(self, timeout: float) -> None:
            order.append("init")
            registered.set()
            super().init_transactions(timeout)

    instances: list[SlowToClose] = []

    def factory(conf: dict[str, Any]) -> SlowToClose:
        instances.append(SlowToClose(conf))
        return instances[-1]

    producer = TransactionalProducer(
        SETTINGS, transactional_id="tx-1", producer_factory=factory, release_timeout=30.0
    )
    producer.init(1.0)
    order.clear()
    registered.clear()
    # Let the close go in the end even if the rebuild waited for it before registering (as
    # it used to): the test then fails on the order it finds instead of hanging.
    threading.Timer(3.0, registered.set).start()
    producer.rebuild("fenced")
    assert order == ["close begins", "init", "close ends"]
    assert instances[0].closed
    assert producer.abandoned.tracked == 0


def test_send_offsets_waits_out_a_moving_coordinator_one_step_at_a_time() -> None:
    """Each attempt that librdkafka times out (the coordinator is moving) is followed by
    another, until the transaction timeout: a call that answers is never taken for stuck."""
    timed_out = KafkaError(KafkaError._TIMED_OUT, "coordinator moving", retriable=True)

    @dataclass
    class Moving(RecordingTxnProducer):
        def send_offsets_to_transaction(self, offsets: Any, metadata: Any, timeout: float) -> None:
            self.timeouts.setdefault("send_offsets", []).append(timeout)
            if len(self.timeouts["send_offsets"]) <= 2:
                threading.Event().wait(timeout)  # librdkafka keeps to its timeout here
                raise KafkaException(timed_out)
            self.sent_offsets.append((offsets, metadata))

    instances: list[Moving] = []

    def factory(conf: dict[str, Any]) -> Moving:
        instances.append(Moving(conf))
        return instances[-1]

    producer = TransactionalProducer(
        SETTINGS, transactional_id="tx-1", producer_factory=factory, transaction_timeout_ms=2000
    )
    producer.init(1.0)
    producer.begin()
    producer.send_offsets(OFFSETS, "group-metadata", 30.0)
    step = TransactionDeadlines.derive(SETTINGS, 2000).step_s
    assert len(instances) == 1  # never replaced
    assert len(instances[0].timeouts["send_offsets"]) == 3
    assert max(instances[0].timeouts["send_offsets"]) <= step
    assert len(instances[0].sent_offsets) == 1
