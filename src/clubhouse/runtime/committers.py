"""How a processed batch reaches Kafka: exactly once, in a transaction, or at least once.

``TransactionalCommitter`` (``--processing-guarantee exactly-once``, the default) writes the
batch's outputs, its changelog records and its consumed offsets in one Kafka transaction
(KIP-447: the offsets go with the consumer's group metadata, so a deposed instance cannot
commit). Either all of it becomes visible to ``read_committed`` readers or none of it does.

``AtLeastOnceCommitter`` publishes with the idempotent producer, waits for every
acknowledgement, then commits the offsets. A crash in between redelivers the batch; the
dedupe window in each key's changelog entry then answers it again from the stored outputs.

Both keep retrying a batch whose failure is transient, with backoff, and replace records the
broker refuses for good through the ``PublishGuard``, so no record can block a partition.
Both return, per changelog partition, the offset after the batch's last changelog record
(the new checkpoint), or None when the batch has to be processed again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from clubhouse.messaging.outbound import Outbound
from clubhouse.messaging.publish_guard import PublishGuard
from clubhouse.observability import ServiceMetrics
from clubhouse.retry import DEFAULT_RETRY, Backoff, RetryPolicy
from clubhouse.services.error_policy import Disposition, disposition
from clubhouse.services.kafka_errors import (
    BatchDeliveryError,
    FatalKafkaError,
    KafkaClientError,
    TransactionFencedError,
    TransactionTimeoutError,
)
from clubhouse.services.kafka_protocol import (
    Acknowledgement,
    ConsumedRecord,
    DeliveredRecord,
    KafkaConsumerProtocol,
    KafkaProducerProtocol,
    TopicOffset,
    TransactionalProducerProtocol,
)

log = logging.getLogger(__name__)

ChangelogEnds = dict[int, int]


class BatchCommitter(Protocol):
    """Gets one processed batch into Kafka, or says it must be done again."""

    def start(self, timeout: float) -> None:
        """Prepare the producer (a transactional one registers its id)."""
        ...

    def commit(
        self, records: Sequence[ConsumedRecord], outbound: list[Outbound], stop: threading.Event
    ) -> ChangelogEnds | None:
        """Publish ``outbound`` and commit past ``records``; None: process them again."""
        ...

    def close(self, timeout: float) -> None:
        """Release the producer."""
        ...


def next_offsets(records: Sequence[ConsumedRecord]) -> list[TopicOffset]:
    """Per partition of ``records``: the offset after its last one."""
    highest: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.topic, r.partition)
        highest[key] = max(highest.get(key, -1), r.offset)
    return [TopicOffset(t, p, o + 1) for (t, p), o in sorted(highest.items())]


def changelog_ends(
    sent: Sequence[Outbound], delivered: Sequence[DeliveredRecord], changelog_topic: str
) -> ChangelogEnds:
    """Per changelog partition, the offset after the last record of ``sent`` written there."""
    ends: ChangelogEnds = {}
    for record, where in zip(sent, delivered, strict=True):
        if record.topic == changelog_topic:
            ends[where.partition] = max(ends.get(where.partition, 0), where.offset + 1)
    return ends


def _unrecoverable(exc: BaseException) -> bool:
    """Fatal by the error policy, and not cured by a new producer: a configuration no client
    can be built from. (A producer that hit a fatal error itself is rebuilt.)"""
    return disposition(exc) is Disposition.FATAL and not isinstance(exc, FatalKafkaError)


class TransactionalCommitter:
    """One transaction per batch: outputs, changelog and offsets, all or nothing."""

    def __init__(
        self,
        producer: TransactionalProducerProtocol,
        consumer: KafkaConsumerProtocol,
        guard: PublishGuard,
        *,
        changelog_topic: str,
        metrics: ServiceMetrics,
        timeout_s: float = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._producer = producer
        self._consumer = consumer
        self._guard = guard
        self._changelog = changelog_topic
        self._metrics = metrics
        self._timeout = timeout_s
        self._retry = retry
        self._clock = clock
        # Failed batches in a row: each waits longer, until a commit succeeds.
        self._failures: Backoff | None = None

    def start(self, timeout: float) -> None:
        """Register the transactional id, fencing an earlier incarnation of this instance."""
        self._producer.init(timeout)

    def commit(
        self, records: Sequence[ConsumedRecord], outbound: list[Outbound], stop: threading.Event
    ) -> ChangelogEnds | None:
        """Commit the batch in one transaction; None when it must be processed again.

        A record refused for good is replaced and the transaction tried again at once. Any
        other failure aborts it and hands the batch back to be processed again after a
        backoff: the poll in between is what lets the consumer see a rebalance (after which
        retrying with the old group metadata could never succeed).
        """
        pending = list(outbound)
        offsets = next_offsets(records)
        while True:
            started = self._clock()
            try:
                self._producer.begin()
                futures = [self._produce(r) for r in pending]
                try:
                    delivered = self._producer.wait(futures, self._timeout)
                except BatchDeliveryError as exc:
                    replaced = self._replacements(pending, exc)
                    self._abort("a record of the batch was refused")
                    if replaced is None:
                        self._again(stop, "transaction aborted; the batch is redone", exc)
                        return None
                    pending = replaced
                    continue
                if offsets:
                    self._producer.send_offsets(
                        offsets, self._consumer.group_metadata(), self._timeout
                    )
                if not self._commit(stop):
                    return None
            except TransactionFencedError as exc:
                # Another instance owns these partitions now (or runs with our id): what
                # this batch did is undone, and the next poll brings the new assignment.
                log.warning("transaction fenced; the batch is left to the partitions' owner",
                            extra={"error": str(exc)})  # fmt: skip
                self._metrics.transactions.labels("fenced").inc()
                self._rebuild(str(exc))
                return None
            except KafkaClientError as exc:
                self._abort(str(exc))
                self._again(stop, "transaction aborted; the batch is redone", exc)
                return None
            self._failures = None
            self._metrics.transactions.labels("commit").inc()
            self._metrics.commit_seconds.observe(self._clock() - started)
            return changelog_ends(pending, delivered, self._changelog)

    def close(self, timeout: float) -> None:
        """Release the producer; an open transaction is aborted by the broker."""
        self._producer.close(timeout)

    def _again(self, stop: threading.Event, why: str, exc: Exception) -> None:
        """Back off (longer each time until a commit succeeds), then hand the batch back."""
        if _unrecoverable(exc):
            raise exc
        if self._failures is None:
            self._failures = self._retry.backoff(stop)
        self._failures.wait(why, exc, log=log)

    def _commit(self, stop: threading.Event) -> bool:
        """Commit; False when asked to stop while the outcome is still unknown.

        A commit that timed out may have happened: only calling commit again settles it, so
        it is never answered with an abort and a redo (which could act twice).
        """
        backoff = self._retry.backoff(stop)
        while True:
            try:
                self._producer.commit(self._timeout)
                return True
            except TransactionTimeoutError as exc:
                why = "transaction commit unconfirmed; committing again"
                if not backoff.wait(why, exc, log=log):
                    # Stopping: the next start registers the transactional id again, which
                    # settles this transaction either way before anything is read.
                    return False

    def _produce(self, record: Outbound) -> Acknowledgement:
        return self._producer.produce(
            record.topic, record.key, record.value, record.headers, partition=record.partition
        )

    def _replacements(
        self, pending: list[Outbound], exc: BatchDeliveryError
    ) -> list[Outbound] | None:
        """``pending`` with each record refused for good replaced; None if any failure may
        be transient (or hit a changelog record, which has no stand-in)."""
        failed = exc.failed
        if disposition(exc) is not Disposition.PERMANENT:
            return None
        if any(pending[i].topic == self._changelog for i in failed):
            log.error("a changelog record was refused; the batch is retried",
                      extra={"errors": [str(e) for e in failed.values()]})  # fmt: skip
            return None
        out: list[Outbound] = []
        for i, record in enumerate(pending):
            if i not in failed:
                out.append(record)
                continue
            error = failed[i]
            replacement = self._guard.replace(record, error.permanent_reason or "", str(error))
            if replacement is not None:
                out.append(replacement)
        return out

    def _abort(self, reason: str) -> None:
        self._metrics.transactions.labels("abort").inc()
        try:
            self._producer.abort(self._timeout)
        except TransactionFencedError as exc:
            self._rebuild(str(exc))
        except KafkaClientError as exc:
            log.warning("abort failed; rebuilding the producer",
                        extra={"error": str(exc), "reason": reason})  # fmt: skip
            self._rebuild(str(exc))

    def _rebuild(self, reason: str) -> None:
        try:
            self._producer.rebuild(reason)
        except KafkaClientError as exc:
            if _unrecoverable(exc):
                raise
            # The next attempt fails the same way and comes back here after its backoff.
            log.error("could not rebuild the transactional producer", extra={"error": str(exc)})


class AtLeastOnceCommitter:
    """Publish with the idempotent producer, wait for every acknowledgement, then commit."""

    def __init__(
        self,
        producer: KafkaProducerProtocol,
        consumer: KafkaConsumerProtocol,
        guard: PublishGuard,
        *,
        changelog_topic: str,
        timeout_s: float = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._producer = producer
        self._consumer = consumer
        self._guard = guard
        self._changelog = changelog_topic
        self._timeout = timeout_s
        self._retry = retry

    def start(self, timeout: float) -> None:
        """Nothing to prepare: an idempotent producer gets its id on first use."""

    def commit(
        self, records: Sequence[ConsumedRecord], outbound: list[Outbound], stop: threading.Event
    ) -> ChangelogEnds | None:
        """Publish until acknowledged or replaced, then commit the offsets."""
        ends = self._publish(outbound, stop)
        if ends is None:
            return None
        try:
            self._consumer.commit(next_offsets(records))
        except KafkaClientError as exc:
            # The batch is in Kafka; a lost commit only means a redelivery, which the dedupe
            # window answers from the stored outputs.
            log.warning("offset commit failed; records may be redelivered",
                        extra={"error": str(exc)})  # fmt: skip
        return ends

    def close(self, timeout: float) -> None:
        """Flush what is queued and release the producer."""
        self._producer.close(timeout)

    def _publish(self, outbound: list[Outbound], stop: threading.Event) -> ChangelogEnds | None:
        pending = list(outbound)
        ends: ChangelogEnds = {}
        backoff = self._retry.backoff(stop)
        while pending:
            try:
                delivered = self._producer.produce_batch(pending, timeout=self._timeout)
                for p, o in changelog_ends(pending, delivered, self._changelog).items():
                    ends[p] = max(ends.get(p, 0), o)
                return ends
            except BatchDeliveryError as exc:
                permanent = disposition(exc) is Disposition.PERMANENT and not any(
                    pending[i].topic == self._changelog for i in exc.failed
                )
                if permanent:
                    # The others were written; only the stand-ins are still to send. Their
                    # changelog offsets are unknown: the checkpoint stays behind, which only
                    # makes a later restore read a little more.
                    replaced = (self._guard.replace(pending[i], e.permanent_reason or "", str(e))
                                for i, e in exc.failed.items())  # fmt: skip
                    pending = [r for r in replaced if r is not None]
                    continue
                failure: Exception = exc
            except KafkaClientError as exc:
                if _unrecoverable(exc):
                    raise
                failure = exc
            if stop.is_set():
                log.warning("stopping with an unpublished batch; it will be redelivered")
                return None
            # A broker that forgot this producer's id (a restart, say) leaves an idempotent
            # producer failed for good; a fresh one gets a new id. Re-sending the batch can
            # duplicate a record, never lose one, and outputs keep their ids.
            self._producer.rebuild(f"publish failed: {failure}")
            if not backoff.wait("kafka error; retrying", failure, log=log):
                return None
        return ends
