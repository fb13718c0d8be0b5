"""TransactionalProducer over a fake librdkafka producer: error triage, retries, doomed
transactions, rebuild."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from clubhouse.runtime.transactional_producer import TransactionalProducer
from clubhouse.services.kafka import (
    BatchDeliveryError,
    DeliveryTimeoutError,
    KafkaSettings,
    TopicOffset,
    TransactionAbortableError,
    TransactionError,
    TransactionFencedError,
    TransactionTimeoutError,
)
from tests.fakes.kafka import FakeProducer

SETTINGS = KafkaSettings("k:9092", client_id="unit")


@dataclass
class FakeTxnProducer(FakeProducer):
    """A FakeProducer with the transactional API; ``failures`` maps an API name to the
    errors its next calls raise, one per call."""

    failures: dict[str, list[KafkaError]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    sent_offsets: list[Any] = field(default_factory=list)
    close_raises: KafkaError | None = None

    def close(self) -> bool:
        super().close()
        if self.close_raises is not None:
            raise KafkaException(self.close_raises)  # as a fenced client does
        return True

    def _api(self, name: str) -> None:
        self.calls.append(name)
        queued = self.failures.get(name)
        if queued:
            raise KafkaException(queued.pop(0))

    def init_transactions(self, timeout: float) -> None:
        self._api("init_transactions")

    def begin_transaction(self) -> None:
        self._api("begin_transaction")

    def send_offsets_to_transaction(self, offsets: Any, metadata: Any, timeout: float) -> None:
        self._api("send_offsets_to_transaction")
        self.sent_offsets.append((offsets, metadata))

    def commit_transaction(self, timeout: float) -> None:
        self._api("commit_transaction")

    def abort_transaction(self, timeout: float) -> None:
        self._api("abort_transaction")


class Factory:
    def __init__(self, **fake_kwargs: Any) -> None:
        self.instances: list[FakeTxnProducer] = []
        self.kwargs = fake_kwargs

    def __call__(self, conf: dict[str, Any]) -> FakeTxnProducer:
        fake = FakeTxnProducer(conf, **self.kwargs)
        self.instances.append(fake)
        return fake


def _producer(**fake: Any) -> tuple[TransactionalProducer, Factory]:
    factory = Factory(**fake)
    producer = TransactionalProducer(SETTINGS, transactional_id="tx-1", producer_factory=factory)
    producer.init(1.0)
    return producer, factory


def _err(code: int, **flags: bool) -> KafkaError:
    return KafkaError(code, "reason", **flags)


def test_config_is_transactional_idempotent_and_murmur2_partitioned() -> None:
    _, factory = _producer()
    conf = factory.instances[0].conf
    assert conf["transactional.id"] == "tx-1"
    assert conf["transaction.timeout.ms"] == 10000
    assert conf["enable.idempotence"] is True
    assert conf["partitioner"] == "murmur2_random"


def test_a_batch_is_produced_acknowledged_offsets_sent_and_committed() -> None:
    producer, factory = _producer()
    producer.begin()
    futures = [
        producer.produce("out", b"k", b"v", partition=2),
        producer.produce("out", None, b"w"),
    ]
    delivered = producer.wait(futures, 1.0)
    assert [d.offset for d in delivered] == [0, 1]
    producer.send_offsets([TopicOffset("in", 0, 5)], "metadata", 1.0)
    producer.commit(1.0)
    fake = factory.instances[0]
    assert fake.produced[0]["partition"] == 2
    assert "partition" not in fake.produced[1]  # the partitioner decides
    ((offsets, metadata),) = fake.sent_offsets
    assert [(tp.topic, tp.partition, tp.offset) for tp in offsets] == [("in", 0, 5)]
    assert metadata == "metadata"
    assert fake.calls == [
        "init_transactions",
        "begin_transaction",
        "send_offsets_to_transaction",
        "commit_transaction",
    ]


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (_err(KafkaError._FENCED, fatal=True), TransactionFencedError),
        (_err(KafkaError.PRODUCER_FENCED, fatal=True), TransactionFencedError),
        (_err(KafkaError.INVALID_PRODUCER_EPOCH, fatal=True), TransactionFencedError),
        (_err(KafkaError.ILLEGAL_GENERATION, txn_requires_abort=True), TransactionFencedError),
        (_err(KafkaError.UNKNOWN_MEMBER_ID, txn_requires_abort=True), TransactionFencedError),
        (_err(KafkaError.FENCED_INSTANCE_ID, fatal=True), TransactionFencedError),
        (_err(KafkaError.INVALID_RECORD, txn_requires_abort=True), TransactionAbortableError),
        (_err(KafkaError._STATE), TransactionError),
    ],
)
def test_send_offsets_errors_are_classified_by_what_the_caller_must_do(
    error: KafkaError, raised: type[TransactionError]
) -> None:
    producer, factory = _producer(failures={"send_offsets_to_transaction": [error]})
    producer.begin()
    with pytest.raises(raised) as caught:
        producer.send_offsets([TopicOffset("in", 0, 1)], object(), 1.0)
    assert type(caught.value) is raised
    assert "'tx-1'" in str(caught.value)
    assert "send_offsets_to_transaction" in str(caught.value)
    assert caught.value.code == error.name()
    assert factory.instances[0].calls.count("send_offsets_to_transaction") == 1  # no retry


def test_group_fencing_is_told_apart_from_producer_fencing() -> None:
    generation = TransactionFencedError("t", "op", "r", "ILLEGAL_GENERATION")
    epoch = TransactionFencedError("t", "op", "r", "PRODUCER_FENCED")
    assert generation.group_fenced
    assert not epoch.group_fenced


@pytest.mark.parametrize("api", ["commit_transaction", "abort_transaction"])
def test_retriable_errors_are_retried_until_the_call_succeeds(api: str) -> None:
    retriable = [_err(KafkaError._TIMED_OUT, retriable=True) for _ in range(2)]
    producer, factory = _producer(failures={api: retriable})
    producer.begin()
    if api == "commit_transaction":
        producer.commit(5.0)
    else:
        producer.abort(5.0)
    assert factory.instances[0].calls.count(api) == 3


def test_a_retriable_error_that_outlasts_the_timeout_is_a_timeout_error() -> None:
    endless = [_err(KafkaError.COORDINATOR_NOT_AVAILABLE, retriable=True) for _ in range(1000)]
    producer, _ = _producer(failures={"commit_transaction": endless})
    producer.begin()
    with pytest.raises(TransactionTimeoutError, match=r"commit_transaction of .*'tx-1'"):
        producer.commit(0.2)


def test_init_retries_retriable_errors() -> None:
    factory = Factory(failures={"init_transactions": [_err(KafkaError._TRANSPORT, retriable=True)]})
    producer = TransactionalProducer(SETTINGS, transactional_id="tx-1", producer_factory=factory)
    producer.init(5.0)
    assert factory.instances[0].calls == ["init_transactions", "init_transactions"]


def test_an_abortable_commit_error_asks_for_an_abort() -> None:
    producer, _ = _producer(
        failures={"commit_transaction": [_err(KafkaError._INVALID_ARG, txn_requires_abort=True)]}
    )
    producer.begin()
    with pytest.raises(TransactionAbortableError, match="abort the transaction"):
        producer.commit(1.0)


def test_a_failed_record_fails_wait_and_dooms_the_transaction() -> None:
    def outcome(topic: str, value: bytes | None) -> KafkaError | None:
        return _err(KafkaError.MSG_SIZE_TOO_LARGE) if value == b"big" else None

    producer, factory = _producer(outcome=outcome)
    producer.begin()
    futures = [producer.produce("out", None, b"ok"), producer.produce("out", None, b"big")]
    with pytest.raises(BatchDeliveryError) as caught:
        producer.wait(futures, 1.0)
    assert list(caught.value.failed) == [1]
    with pytest.raises(TransactionAbortableError):
        producer.commit(1.0)
    assert "commit_transaction" not in factory.instances[0].calls
    producer.abort(1.0)
    producer.begin()  # the next transaction starts clean
    producer.commit(1.0)


def test_records_not_acknowledged_in_time_fail_and_the_transaction_must_abort() -> None:
    producer, _ = _producer(outcome=lambda topic, value: "hang")
    producer.begin()
    future = producer.produce("out", None, b"v")
    with pytest.raises(BatchDeliveryError) as caught:
        producer.wait([future], 0.2)
    assert isinstance(caught.value.failed[0], DeliveryTimeoutError)
    with pytest.raises(TransactionAbortableError):
        producer.commit(1.0)
    producer.abort(1.0)


def test_a_fatal_error_reported_by_librdkafka_fences_every_later_call() -> None:
    producer, factory = _producer()
    factory.instances[0].conf["error_cb"](_err(KafkaError._FENCED, fatal=True))
    with pytest.raises(TransactionFencedError, match="begin_transaction"):
        producer.begin()


def test_rebuild_replaces_the_client_with_the_same_id_and_inits_it() -> None:
    producer, factory = _producer(outcome=lambda topic, value: "hang")
    producer.begin()
    future = producer.produce("out", None, b"v")
    producer.rebuild("fenced")
    old, new = factory.instances
    assert old.closed
    assert old.purged
    assert new.conf["transactional.id"] == "tx-1"
    assert new.calls == ["init_transactions"]
    assert isinstance(future.exception(), Exception)
    assert "rebuilt (fenced)" in str(future.exception())


def test_rebuild_copes_with_a_fenced_client_raising_from_close() -> None:
    producer, factory = _producer(close_raises=_err(KafkaError._FENCED, fatal=True))
    producer.rebuild("fenced")
    assert factory.instances[0].closed
    assert len(factory.instances) == 2


def test_rebuild_abandons_a_client_whose_close_does_not_return() -> None:
    release = threading.Event()
    factory = Factory(close_blocks=release)
    producer = TransactionalProducer(
        SETTINGS, transactional_id="tx-1", producer_factory=factory, release_timeout=0.01
    )
    producer.init(1.0)
    try:
        producer.rebuild("abort failed")
        old, new = factory.instances[:2]
        assert not old.closed  # still inside close(): left behind, not waited for
        assert new.calls == ["init_transactions"]
        producer.begin()
        assert new.calls == ["init_transactions", "begin_transaction"]
    finally:
        release.set()


def test_a_transactional_id_the_broker_forgot_asks_for_a_rebuild() -> None:
    # TRANSACTIONAL_ID_NOT_FOUND (105) at AddPartitionsToTxn: librdkafka flags it abortable,
    # but the broker cannot abort a transaction of an id it does not know.
    forgotten = _err(105, txn_requires_abort=True)
    producer, _ = _producer(failures={"commit_transaction": [forgotten]})
    producer.begin()
    with pytest.raises(TransactionFencedError, match="commit_transaction"):
        producer.commit(1.0)


def test_produce_refused_by_librdkafka_is_classified() -> None:
    producer, _ = _producer(
        refuse=lambda topic, value: _err(KafkaError._FENCED, fatal=True),
    )
    producer.begin()
    with pytest.raises(TransactionFencedError, match="produce"):
        producer.produce("out", None, b"v")


def test_close_refuses_later_calls() -> None:
    producer, factory = _producer()
    producer.close(1.0)
    assert factory.instances[0].closed
    with pytest.raises(TransactionError, match="closed"):
        producer.begin()


def test_a_late_fatal_error_of_a_replaced_client_does_not_fence_its_successor() -> None:
    producer, factory = _producer()
    producer.rebuild("fenced")
    old, new = factory.instances
    old.conf["error_cb"](_err(KafkaError._FENCED, fatal=True))  # the old client, late
    producer.begin()
    assert new.calls == ["init_transactions", "begin_transaction"]
    new.conf["error_cb"](_err(KafkaError._FENCED, fatal=True))
    with pytest.raises(TransactionFencedError):
        producer.begin()


def test_clients_whose_close_does_not_return_are_bounded_and_counted() -> None:
    release = threading.Event()
    factory = Factory(close_blocks=release)
    producer = TransactionalProducer(
        SETTINGS, transactional_id="tx-1", producer_factory=factory, release_timeout=0.01,
        max_abandoned=2,
    )  # fmt: skip
    producer.init(1.0)
    try:
        for n in range(3):
            producer.rebuild(f"abort failed {n}")
        assert producer.abandoned.tracked == 2
        assert producer.abandoned.dropped == 1
        assert factory.instances[3].calls == ["init_transactions"]
    finally:
        release.set()
