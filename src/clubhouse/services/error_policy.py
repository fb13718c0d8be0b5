"""The one error policy: what a failure from Kafka means for whoever caught it.

- ``TRANSIENT``: try again (with the retry policy): a broker moving, a timeout, a
  transaction to abort and redo.
- ``PERMANENT``: no retry can help, and the failure belongs to one record (too large, not
  authorized for its topic, invalid): replace that record and go on.
- ``FATAL``: the client cannot be used any more, or the configuration is wrong: liveness
  turns red and the process ends, for its supervisor to restart it.

Every place that catches a Kafka error asks ``disposition()`` (our exceptions) or
``client_disposition()`` (a librdkafka error, where a client wrapper turns it into one of
ours) rather than deciding itself.
"""

from __future__ import annotations

from enum import StrEnum

from clubhouse.services.kafka_errors import (
    GROUP_FENCING_CODES,
    BatchDeliveryError,
    DeliveryError,
    FatalKafkaError,
    KafkaConfigError,
)

# librdkafka errors that no retry cures: someone has to change configuration or ACLs.
NEEDS_A_PERSON = frozenset({
    "TOPIC_AUTHORIZATION_FAILED", "GROUP_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED",
    "SASL_AUTHENTICATION_FAILED", "_AUTHENTICATION", "_AUTO_OFFSET_RESET", "_INVALID_ARG",
})  # fmt: skip


class Disposition(StrEnum):
    """What to do about a failure."""

    TRANSIENT = "transient"
    PERMANENT = "permanent"
    FATAL = "fatal"


def disposition(exc: BaseException) -> Disposition:
    """How ``exc`` is handled under the error policy."""
    if isinstance(exc, FatalKafkaError | KafkaConfigError):
        return Disposition.FATAL
    if isinstance(exc, BatchDeliveryError):
        failed = exc.failed.values()
        if failed and all(e.permanent_reason for e in failed):
            return Disposition.PERMANENT
        return Disposition.TRANSIENT
    if isinstance(exc, DeliveryError) and exc.permanent_reason:
        return Disposition.PERMANENT
    return Disposition.TRANSIENT


def client_disposition(name: str, *, fatal: bool, retriable: bool | None = None) -> Disposition:
    """How a librdkafka error is handled: its ``name()``, ``fatal()`` and, where librdkafka
    flags it for the call (transactions), ``retriable()``; None: not flagged (a consumer's
    errors), so transient unless it needs a person.

    Generation fencing is never transient, whatever librdkafka flags it as: a retry with the
    same group metadata is refused again.
    """
    if fatal:
        return Disposition.FATAL
    if name in NEEDS_A_PERSON or name in GROUP_FENCING_CODES or retriable is False:
        return Disposition.PERMANENT
    return Disposition.TRANSIENT
