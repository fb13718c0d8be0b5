"""Keeps records the broker will never take from blocking their partition.

Before a batch is published, every record is measured against the limits its producer and
its topic really have; after publishing, a permanent failure (too large, invalid, not
authorized) is handled the same way. The replacement chain:

1. a response that cannot be published is replaced by an ErrorResponse answering its
   command (``message_too_large`` with both sizes, or ``publish_failed``);
2. anything else that cannot be published, and a replacement that cannot either, becomes a
   dead letter whose value is truncated to fit, with headers saying why;
3. a dead letter that still cannot be published is dropped, logged and counted.

Keeping a record that no retry can deliver would stop the loop for good, and a restart
would not help because the command is delivered again; every step is counted in
``clubhouse_permanent_publish_failures_total``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from clubhouse.messaging.outbound import Headers, Origin, Outbound
from clubhouse.messaging.processor import DLQ_ERROR, DLQ_REASON, DLQ_SOURCE

log = logging.getLogger(__name__)

DLQ_ORIGINAL_TOPIC = "clubhouse.dlq.original_topic"
DLQ_ORIGINAL_SIZE = "clubhouse.dlq.original_size"
DLQ_TRUNCATED = "clubhouse.dlq.truncated"

PRODUCER_DEFAULT_MAX = 1_000_000  # librdkafka's message.max.bytes default
# Room for the record batch header (61 bytes) and one record's varints, so a record that
# passes here is not refused by librdkafka's or the broker's own check a few bytes later.
RECORD_OVERHEAD = 128
_HEADER_OVERHEAD = 10  # the two varint lengths of one header
_MIN_KEPT = 64  # a dead letter keeps at least this much of the value, if the limit allows

# (origin, error_type, message, details) -> the ErrorResponse record answering origin.
ErrorRecord = Callable[[Origin, str, str, Mapping[str, object]], Outbound]


def record_size(record: Outbound) -> int:
    """An upper bound of the bytes ``record`` takes in a record batch, uncompressed."""
    headers = sum(len(k.encode()) + len(v) + _HEADER_OVERHEAD for k, v in record.headers)
    return len(record.key or b"") + len(record.value or b"") + headers + RECORD_OVERHEAD


@dataclass(frozen=True, slots=True)
class SizeLimits:
    """The largest record each topic takes: the producer's limit, or the topic's if lower."""

    producer_max: int = PRODUCER_DEFAULT_MAX
    topic_max: Mapping[str, int] = field(default_factory=dict)

    def limit(self, topic: str) -> int:
        """The largest record, in bytes, that ``topic`` takes from this producer."""
        return min(self.producer_max, self.topic_max.get(topic, self.producer_max))


class PublishGuard:
    """Replaces records that cannot be published; see the module docstring for the chain."""

    def __init__(
        self,
        limits: SizeLimits,
        *,
        responses_topic: str,
        dead_letter_topic: str,
        error_record: ErrorRecord,
        count_failure: Callable[[str], None],
    ) -> None:
        self._limits = limits
        self._responses = responses_topic
        self._dlq = dead_letter_topic
        self._error_record = error_record
        self._count = count_failure

    def fit(self, record: Outbound) -> Outbound | None:
        """``record`` if it fits its topic, else its replacement (None: nothing fits)."""
        current: Outbound | None = record
        while current is not None:
            size, limit = record_size(current), self._limits.limit(current.topic)
            if size <= limit:
                return current
            detail = (
                f"the {_kind(current)} is {size} bytes, over the limit of {limit} bytes "
                f"for topic {current.topic!r}"
            )
            current = self._next(current, record, "message_too_large", detail, limit)
        return None

    def replace(self, record: Outbound, reason: str, detail: str) -> Outbound | None:
        """The replacement for ``record`` after the broker refused it for good."""
        replacement = self._next(record, record, reason, detail, self._limits.limit(record.topic))
        return None if replacement is None else self.fit(replacement)

    def _next(
        self, record: Outbound, original: Outbound, reason: str, detail: str, limit: int
    ) -> Outbound | None:
        """The next step of the chain for ``record``, which stands in for ``original``."""
        self._count(reason)
        size = record_size(record)
        where = {"topic": record.topic, "reason": reason, "size": size, "limit": limit}
        if record.origin is not None:
            where["command_id"] = str(record.origin.command_id)
        if record.topic == self._dlq:
            log.error("dropping a dead letter that cannot be published", extra=where)
            return None
        if record.origin is not None and not record.replacement and record.topic == self._responses:
            log.warning("answering a command whose response cannot be published", extra=where)
            error_type = "message_too_large" if reason == "message_too_large" else "publish_failed"
            message = f"the response to this command could not be published: {detail}"
            details = {"size_bytes": size, "limit_bytes": limit, "reason": reason}
            return replace(
                self._error_record(record.origin, error_type, message, details),
                replacement=True,
            )
        log.warning("dead-lettering a record that cannot be published", extra=where)
        # A failed stand-in says less than what it stood in for: park the original.
        parked = original if record.replacement and not original.replacement else record
        return self._truncated_dead_letter(parked, reason, detail)

    def _truncated_dead_letter(self, record: Outbound, reason: str, detail: str) -> Outbound:
        size = record_size(record)
        source = record.origin.source if record.origin is not None else ""
        headers: Headers = [
            (DLQ_REASON, reason.encode()),
            (DLQ_ERROR, detail.encode()[:1024]),
            (DLQ_SOURCE, source.encode()),
            (DLQ_ORIGINAL_TOPIC, record.topic.encode()),
            (DLQ_ORIGINAL_SIZE, str(size).encode()),
            *[(k, v[:256]) for k, v in record.headers if not k.startswith("clubhouse.dlq.")],
        ]
        room = self._limits.limit(self._dlq) - len(record.key or b"") - RECORD_OVERHEAD
        room -= sum(len(k.encode()) + len(v) + _HEADER_OVERHEAD for k, v in headers)
        room -= len(DLQ_TRUNCATED) + 8 + _HEADER_OVERHEAD
        value = record.value or b""
        kept = value[: max(_MIN_KEPT, room)]
        if len(kept) < len(value):
            headers.append((DLQ_TRUNCATED, b"true"))
        return Outbound(
            self._dlq, record.key, kept, headers, origin=record.origin, replacement=True
        )


def _kind(record: Outbound) -> str:
    for key, value in record.headers:
        if key == "message_type":
            return value.decode(errors="replace")
    return "record"
