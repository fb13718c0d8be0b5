"""The one error policy: what a failure from Kafka means for whoever caught it.

- ``TRANSIENT``: try again (with the retry policy): a broker moving, a timeout, a
  transaction to abort and redo.
- ``PERMANENT``: no retry can help, and the failure belongs to one record (too large, not
  authorized for its topic, invalid): replace that record and go on.
- ``FATAL``: the client cannot be used any more, or the configuration is wrong: liveness
  turns red and the process ends, for its supervisor to restart it.

Every place that catches a Kafka error asks ``disposition()`` rather than deciding itself.
"""

from __future__ import annotations

from enum import StrEnum

from clubhouse.services.kafka_errors import (
    BatchDeliveryError,
    DeliveryError,
    FatalKafkaError,
    KafkaConfigError,
)


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
