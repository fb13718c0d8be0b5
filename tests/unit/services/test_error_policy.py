"""The one error policy sorts Kafka failures into transient, permanent and fatal."""

from __future__ import annotations

from clubhouse.services.error_policy import Disposition, client_disposition, disposition
from clubhouse.services.kafka_errors import (
    BatchDeliveryError,
    ConsumeError,
    DeliveryError,
    FatalKafkaError,
    KafkaConfigError,
    TransactionAbortableError,
)


def test_fatal_client_errors_and_bad_configuration_are_fatal() -> None:
    assert disposition(FatalKafkaError("consumer", "fenced", "_FENCED")) is Disposition.FATAL
    assert disposition(KafkaConfigError("no such property")) is Disposition.FATAL


def test_a_record_the_broker_refuses_for_good_is_permanent() -> None:
    too_large = DeliveryError("t", "too large", code="MSG_SIZE_TOO_LARGE")
    assert disposition(too_large) is Disposition.PERMANENT
    assert disposition(BatchDeliveryError({0: too_large}, 2)) is Disposition.PERMANENT


def test_anything_else_is_transient() -> None:
    timed_out = DeliveryError("t", "timed out", code="_MSG_TIMED_OUT")
    too_large = DeliveryError("t", "too large", code="MSG_SIZE_TOO_LARGE")
    assert disposition(timed_out) is Disposition.TRANSIENT
    assert disposition(BatchDeliveryError({0: too_large, 1: timed_out}, 2)) is (
        Disposition.TRANSIENT
    )
    assert disposition(ConsumeError("leader moving", "NOT_LEADER_FOR_PARTITION")) is (
        Disposition.TRANSIENT
    )
    abortable = TransactionAbortableError("svc-1", "commit", "abort and redo", "_STATE")
    assert disposition(abortable) is Disposition.TRANSIENT


def test_librdkafka_errors_are_sorted_by_the_same_policy() -> None:
    assert client_disposition("_FENCED", fatal=True) is Disposition.FATAL
    for name in ("TOPIC_AUTHORIZATION_FAILED", "SASL_AUTHENTICATION_FAILED", "_AUTHENTICATION"):
        assert client_disposition(name, fatal=False) is Disposition.PERMANENT
    # Fencing by generation is never retried, even when librdkafka calls it retriable.
    assert client_disposition("ILLEGAL_GENERATION", fatal=False, retriable=True) is (
        Disposition.PERMANENT
    )
    assert client_disposition("_TRANSPORT", fatal=False) is Disposition.TRANSIENT
    assert client_disposition("COORDINATOR_LOAD_IN_PROGRESS", fatal=False, retriable=True) is (
        Disposition.TRANSIENT
    )
    assert client_disposition("INVALID_TXN_STATE", fatal=False, retriable=False) is (
        Disposition.PERMANENT
    )
