"""The one error policy sorts Kafka failures into transient, permanent and fatal."""

from __future__ import annotations

from clubhouse.services.error_policy import Disposition, disposition
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
