"""Typed Kafka errors; each message names the topic (or setting, or transactional id)
involved and the reason.

Transient conditions (a broker restarting, a connection refused) are not errors here:
librdkafka reconnects on its own and the wrappers only log them. What reaches the caller is
what the caller must act on: a record that was not delivered, a commit that did not happen,
a fatal client state, or a configuration mistake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from clubhouse.errors import ClubhouseError

# Produce error codes that no retry of the same record can fix, each with the reason a
# metric and an error response name it by. Everything else (timeouts, leader changes, a
# broker restarting) is transient: retrying the record is right.
_PERMANENT_REASONS = {
    "MSG_SIZE_TOO_LARGE": "message_too_large",
    "RECORD_LIST_TOO_LARGE": "message_too_large",
    "INVALID_RECORD": "invalid_record",
    "UNSUPPORTED_FOR_MESSAGE_FORMAT": "invalid_record",
    "_INVALID_ARG": "invalid_record",
    "TOPIC_AUTHORIZATION_FAILED": "not_authorized",
    "CLUSTER_AUTHORIZATION_FAILED": "not_authorized",
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED": "not_authorized",
    "INVALID_TOPIC_EXCEPTION": "invalid_topic",
    "POLICY_VIOLATION": "policy_violation",
}


def permanent_reason(code: str | None) -> str | None:
    """Why a produce error with librdkafka error name ``code`` is permanent, or None if not.

    librdkafka names its local errors with a leading underscore (``_MSG_SIZE_TOO_LARGE``);
    both spellings of one condition classify alike.
    """
    if code is None:
        return None
    return _PERMANENT_REASONS.get(code) or _PERMANENT_REASONS.get(code.lstrip("_"))


class KafkaClientError(ClubhouseError):
    """Base class for the Kafka layer's errors."""


class KafkaConfigError(KafkaClientError):
    """The settings are inconsistent, or librdkafka rejected a configuration property."""


class FatalKafkaError(KafkaClientError):
    """librdkafka raised a fatal error: the client instance cannot be used any more."""

    def __init__(self, client: str, reason: str, code: str) -> None:
        self.code = code
        super().__init__(
            f"the Kafka {client} hit a fatal error: {reason} [{code}]; it cannot be used "
            "any more (KafkaProducer.rebuild() replaces a producer; recreate a consumer)"
        )


class ProduceError(KafkaClientError):
    """A record could not even be queued (too large, queue full until the timeout, ...)."""

    def __init__(self, topic: str, reason: str, code: str | None = None) -> None:
        self.topic = topic
        self.reason = reason
        self.code = code
        self.permanent_reason = permanent_reason(code)
        suffix = f" [{code}]" if code else ""
        super().__init__(f"could not queue a record for topic {topic!r}: {reason}{suffix}")


class DeliveryError(KafkaClientError):
    """The broker did not acknowledge a record."""

    def __init__(
        self,
        topic: str,
        reason: str,
        *,
        code: str,
        partition: int | None = None,
        retriable: bool = False,
    ) -> None:
        self.topic = topic
        self.reason = reason
        self.code = code
        self.partition = partition
        self.retriable = retriable
        # Set when re-sending this record can never succeed (see ``permanent_reason``).
        self.permanent_reason = permanent_reason(code)
        where = f"topic {topic!r}" + (f" partition {partition}" if partition is not None else "")
        super().__init__(f"delivery to {where} failed: {reason} [{code}]")


class DeliveryTimeoutError(DeliveryError):
    """No acknowledgement arrived within the caller's timeout; the record was withdrawn.

    It may still have been written (it was in flight), so re-sending it can duplicate it.
    """

    def __init__(self, topic: str, timeout: float) -> None:
        super().__init__(
            topic,
            f"no acknowledgement within {timeout:g} s (is the broker reachable?)",
            code="TIMED_OUT_WAITING",
            retriable=True,
        )


class BatchDeliveryError(DeliveryError):
    """Some records of a batch were not acknowledged; ``failures`` has one error per record.

    ``failed`` maps each failed record's index in the batch to its error, so a caller can
    tell which records to re-send and which can never be delivered.
    """

    def __init__(self, failed: Mapping[int, DeliveryError], total: int) -> None:
        self.failed = dict(failed)
        self.failures = tuple(self.failed.values())
        first = self.failures[0]
        super().__init__(
            first.topic,
            f"{len(self.failures)} of {total} records were not acknowledged; first: {first.reason}",
            code=first.code,
            partition=first.partition,
            retriable=all(f.retriable for f in self.failures),
        )


class CommitError(KafkaClientError):
    """Offsets were not committed; the records will be delivered again."""

    def __init__(self, reason: str, code: str, *, topics: Sequence[str] = ()) -> None:
        self.code = code
        self.topics = tuple(topics)
        where = f" for {', '.join(sorted(set(topics)))}" if topics else ""
        super().__init__(f"committing offsets{where} failed: {reason} [{code}]")


class ConsumeError(KafkaClientError):
    """The consumer hit an error that retrying will not fix (authorization, offset policy)."""

    def __init__(self, reason: str, code: str, *, topic: str | None = None) -> None:
        self.code = code
        self.topic = topic
        where = f" on topic {topic!r}" if topic else ""
        super().__init__(f"consuming{where} failed: {reason} [{code}]")


class TopicAdminError(KafkaClientError):
    """A topic could not be created or listed."""

    def __init__(self, topic: str | None, reason: str, code: str | None = None) -> None:
        self.topic = topic
        self.code = code
        what = f"topic {topic!r}" if topic else "the topic list"
        suffix = f" [{code}]" if code else ""
        super().__init__(f"admin request for {what} failed: {reason}{suffix}")


class RebalanceListenerError(KafkaClientError):
    """A rebalance listener raised; the partitions it was told about may not be set up.

    Raised from the ``poll`` that ran the listener, after librdkafka's rebalance callback
    has returned (an exception out of that callback would leave the assignment half-done).
    """

    def __init__(self, event: str, partitions: Sequence[tuple[str, int]], cause: str) -> None:
        self.event = event
        self.partitions = tuple(partitions)
        listed = ", ".join(f"{t}/{p}" for t, p in self.partitions) or "none"
        super().__init__(f"the rebalance listener failed in {event} for [{listed}]: {cause}")


class ReadToEndTimeoutError(ConsumeError):
    """``read_to_end`` did not reach the end of the partition within its timeout."""

    def __init__(
        self, topic: str, partition: int, *, start: int, reached: int, records: int, timeout: float
    ) -> None:
        self.partition = partition
        self.start = start
        self.reached = reached
        self.records = records
        super().__init__(
            f"partition {partition} not read to its end within {timeout:g} s: started at "
            f"offset {start}, reached {reached} after {records} records",
            "TIMED_OUT_READING",
            topic=topic,
        )


class TransactionError(KafkaClientError):
    """A transactional operation failed; the message names the transactional id and operation.

    Subclasses say what the caller must do: abort (``TransactionAbortableError``), rebuild
    the producer (``TransactionFencedError``), or decide after a timeout
    (``TransactionTimeoutError``). A plain TransactionError is a usage mistake (a call in the
    wrong state, say), which no retry fixes.
    """

    def __init__(self, transactional_id: str, operation: str, reason: str, code: str) -> None:
        self.transactional_id = transactional_id
        self.operation = operation
        self.reason = reason
        self.code = code
        super().__init__(
            f"{operation} of transactional producer {transactional_id!r} failed: {reason} "
            f"[{code}]{self._advice}"
        )

    _advice = ""


class TransactionAbortableError(TransactionError):
    """The current transaction cannot commit: abort it; the batch may then be retried."""

    _advice = "; abort the transaction, then the batch may be retried"


class TransactionFencedError(TransactionError):
    """The producer is beyond use: another instance took over its transactional id, a fatal
    error struck, or (at ``send_offsets``) the consumer group moved on to a new generation.

    Rebuild the producer, and treat the partitions being processed as possibly lost: another
    member may own them now. ``group_fenced`` is True for the group-generation case.
    """

    _advice = "; rebuild the producer and treat its partitions as possibly lost"

    @property
    def group_fenced(self) -> bool:
        """True when the consumer group, not the transactional id, fenced this producer."""
        return self.code in GROUP_FENCING_CODES


class TransactionTimeoutError(TransactionError):
    """A retriable error kept coming back until the operation's timeout.

    After ``commit`` the outcome is unknown: calling ``commit`` again, or ``abort``, settles it.
    """

    _advice = "; the outcome is unknown until commit or abort is called again"


# Errors of the consumer group's generation (KIP-447): a newer member owns the partitions.
GROUP_FENCING_CODES = frozenset({"ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID", "FENCED_INSTANCE_ID"})
# Errors of the producer's own epoch: another producer with the transactional id took over.
PRODUCER_FENCING_CODES = frozenset({"_FENCED", "PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"})
