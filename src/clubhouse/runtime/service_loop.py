"""The consume -> process -> publish -> commit loop over the partitions this instance owns.

Each batch is processed against the state of its partitions (``OwnedPartitions``); what it
produced (responses, events, dead letters, and one changelog record per key it changed) is
handed to a ``BatchCommitter`` together with the batch's offsets. Only once the committer
says the batch is in Kafka does its state reach the local stores. When it says the batch
must be done again (a transaction aborted, the instance was fenced, or it is stopping), the
batch's changes are dropped and its partitions rewound, so the same records are processed
afresh from the same state: nothing is lost, and nothing acts twice.

With a commit interval, the batches polled within it are held, processed but not yet
produced, and committed together, as Kafka Streams' ``commit.interval.ms`` does: one
transaction, and one changelog record per key however often it changed. Nothing held has
reached Kafka, so a poll that moves partitions simply drops what is held and rewinds to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from clubhouse.messaging.outbound import Outbound
from clubhouse.messaging.processor import CommandProcessor, KeyedState, Processed
from clubhouse.observability import Health, ServiceMetrics
from clubhouse.retry import DEFAULT_RETRY, Backoff, RetryPolicy
from clubhouse.runtime.batch_worker import BatchWorker, HandlersStuckError
from clubhouse.runtime.changelog import EPOCH_HEADER
from clubhouse.runtime.committers import BatchCommitter
from clubhouse.runtime.partitions import OwnedPartitions
from clubhouse.services.error_policy import Disposition, disposition
from clubhouse.services.kafka_errors import KafkaClientError
from clubhouse.services.kafka_protocol import (
    ConsumedRecord,
    KafkaConsumerProtocol,
    TopicOffset,
)
from clubhouse.services.registry_errors import RegistryUnreachableError

log = logging.getLogger(__name__)


@dataclass
class _Held:
    """Batches processed and not committed yet: their records, outputs and counts."""

    started: float
    records: list[ConsumedRecord] = field(default_factory=list)
    outbound: list[Outbound] = field(default_factory=list)
    handled: Counter[tuple[str, str]] = field(default_factory=Counter)


class ServiceLoop:
    """Runs until ``stop`` is set; each batch is committed (or redone) before the next."""

    def __init__(
        self,
        *,
        consumer: KafkaConsumerProtocol,
        processor: CommandProcessor,
        partitions: OwnedPartitions,
        committer: BatchCommitter,
        commands_topic: str,
        changelog_topic: str,
        metrics: ServiceMetrics,
        health: Health,
        ensure_topics: Callable[[], None] = lambda: None,
        worker: BatchWorker | None = None,
        batch_size: int = 200,
        poll_timeout_s: float = 0.1,
        retry: RetryPolicy = DEFAULT_RETRY,
        commit_interval_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer = consumer
        self._processor = processor
        self._partitions = partitions
        self._committer = committer
        self._topic = commands_topic
        self._changelog = changelog_topic
        self._metrics = metrics
        self._health = health
        self._ensure_topics = ensure_topics
        self._worker = worker  # None: records are processed on the loop's own thread
        self._batch_size = batch_size
        self._poll_timeout = poll_timeout_s
        self._retry = retry
        self._interval = commit_interval_s  # 0: commit every polled batch
        self._held: _Held | None = None
        self._clock = clock

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, then leave the group; the caller closes the clients."""
        # Not ready until the group has assigned this instance its partitions (none, for a
        # spare) and their state is restored: only then does it answer.
        self._health.restoring(True)
        self._consumer.subscribe([self._topic], self._partitions)
        self._health.set_ready(True)
        log.info("consuming commands", extra={"topic": self._topic})
        failures = self._retry.backoff(stop)
        try:
            while not stop.is_set():
                self._health.beat()
                changes = self._partitions.changes
                try:
                    records = self._consumer.poll_batch(self._batch_size, self._wait())
                except KafkaClientError as exc:
                    if disposition(exc) is Disposition.FATAL:
                        self._fatal(exc)
                        raise
                    self._drop_held()
                    self._recover(exc, failures)
                    continue
                failures.reset()
                if self._held is not None and self._partitions.changes != changes:
                    # Partitions moved while work was held: it never reached Kafka, so it
                    # is dropped and read again, by whichever instance owns it now.
                    self._redo([*self._held.records, *records])
                    self._held = None
                    continue
                if not records and self._due():
                    self._flush(stop)
                if records:
                    self._health.working()
                    try:
                        self._handle(records, stop)
                    except HandlersStuckError as exc:
                        self._health.fail(str(exc))
                        log.critical(
                            "handlers never returned; this instance stops so that its "
                            "supervisor can restart it", extra={"error": str(exc)},
                        )  # fmt: skip
                        raise
        finally:
            if self._held is not None:
                self._flush(stop)  # what the interval held, committed before leaving
            self._health.set_ready(False)
            if self._worker is not None:
                self._worker.close()

    def _handle(self, records: Sequence[ConsumedRecord], stop: threading.Event) -> None:
        started = self._clock()
        owned = [r for r in records if self._partitions.get(r.partition) is not None]
        if len(owned) < len(records):
            self._not_owned([r for r in records if self._partitions.get(r.partition) is None], stop)
            if not owned:
                return
        outbound: list[Outbound] = []
        # Counted per batch, then added to the metrics once per label: a labels() lookup per
        # record was a measurable share of the per-command cost.
        handled: Counter[tuple[str, str]] = Counter()
        items: list[tuple[ConsumedRecord, KeyedState]] = []
        for record in owned:
            state = self._partitions.get(record.partition)
            assert state is not None  # filtered above
            items.append((record, state))
        try:
            if self._worker is None:
                results: list[Processed] | None = [self._processor.process(r, s)
                                                   for r, s in items]  # fmt: skip
            else:
                results = self._worker.run(items, stop)
        except RegistryUnreachableError as exc:
            # A writer schema to look up, and no registry: the batch waits for it, whole.
            self._redo(self._take_held(owned))
            self._retry.backoff(stop).wait("schema registry unreachable; the batch waits",
                                           exc, log=log)  # fmt: skip
            return
        if results is None:  # stopping in the middle of the batch: none of it is kept
            self._partitions.discard_pending()
            self._held = None
            return
        for processed in results:
            outbound.extend(processed.records)
            handled[(processed.message_type, processed.kind)] += 1
        held = self._held or _Held(started)
        held.records.extend(owned)
        held.outbound.extend(outbound)
        held.handled.update(handled)
        self._held = held
        if self._due():
            self._flush(stop)

    def _wait(self) -> float:
        """How long a poll may wait: never past the end of the held work's interval."""
        held = self._held
        if held is None:
            return self._poll_timeout
        left = held.started + self._interval - self._clock()
        return max(0.0, min(self._poll_timeout, left))

    def _due(self) -> bool:
        """Whether the held work is to be committed now."""
        held = self._held
        return held is not None and self._clock() - held.started >= self._interval

    def _take_held(self, records: Sequence[ConsumedRecord]) -> list[ConsumedRecord]:
        """``records`` with the held ones before them; nothing is held any more."""
        held, self._held = self._held, None
        return [*held.records, *records] if held is not None else list(records)

    def _drop_held(self) -> None:
        if self._held is not None:
            self._redo(self._take_held(()))

    def _flush(self, stop: threading.Event) -> None:
        """Commit the held work in one transaction, or rewind to it."""
        held, self._held = self._held, None
        if held is None:
            return
        outbound = [*held.outbound, *self._changelog_records()]
        ends = self._committer.commit(held.records, outbound, stop)
        if ends is None:
            self._redo(held.records)
            return
        self._partitions.commit(ends)
        self._health.progressed()
        handled = held.handled
        for (message_type, kind), count in handled.items():
            self._metrics.messages.labels(message_type, kind).inc(count)
        elapsed = self._clock() - held.started
        per_type: Counter[str] = Counter()
        for (message_type, _), count in handled.items():
            per_type[message_type] += count
        for message_type, count in per_type.items():
            histogram = self._metrics.latency.labels(message_type)
            for _ in range(count):
                histogram.observe(elapsed)
        for topic, count in Counter(out.topic for out in outbound).items():
            self._metrics.published.labels(topic).inc(count)

    def _not_owned(self, records: Sequence[ConsumedRecord], stop: threading.Event) -> None:
        """Records of partitions without state here: moving away, or not yet restored.

        Records fetched just before their partition moved are the new owner's to read. But a
        partition still assigned here whose restore failed is restored again now, and read
        again from its first such record, so none of them is skipped.
        """
        assigned = {p for t, p in self._consumer.assignment() if t == self._topic}
        first: dict[int, int] = {}
        for r in records:
            if r.partition in assigned:
                first[r.partition] = min(first.get(r.partition, r.offset), r.offset)
        if not first:
            log.info("records of a partition no longer owned left to its new owner",
                     extra={"count": len(records)})  # fmt: skip
            return
        try:
            self._partitions.on_assigned([(self._topic, p) for p in sorted(first)])
        except Exception as exc:
            # Waits out one short delay, never past a stop; the records are read again next.
            self._retry.backoff(stop).wait("restore failed again", exc, log=log)
        self._consumer.seek([TopicOffset(self._topic, p, o) for p, o in sorted(first.items())])

    def _changelog_records(self) -> list[Outbound]:
        out: list[Outbound] = []
        for state in self._partitions:
            epoch = [(EPOCH_HEADER, str(state.epoch).encode())]
            out.extend(
                Outbound(self._changelog, key.encode(), value, epoch, partition=state.partition)
                for key, (_, value) in state.pending.items()
            )
        return out

    def _redo(self, records: Sequence[ConsumedRecord]) -> None:
        """Drop the batch's changes and rewind its partitions to its first records."""
        self._partitions.discard_pending()
        first: dict[int, int] = {}
        for r in records:
            first[r.partition] = min(first.get(r.partition, r.offset), r.offset)
        still_owned = [
            TopicOffset(self._topic, p, o)
            for p, o in sorted(first.items())
            if self._partitions.get(p) is not None
        ]
        if not still_owned:
            return
        try:
            self._consumer.seek(still_owned)
        except KafkaClientError as exc:
            # Only if the partition is moving anyway: its next owner starts from the
            # committed offset, which this batch never moved.
            log.warning("could not rewind after a failed batch", extra={"error": str(exc)})
        log.info("batch to be processed again", extra={"partitions": sorted(first)})

    def _fatal(self, exc: KafkaClientError) -> None:
        """Retrying cannot help a client librdkafka declared unusable, or a configuration no
        client can use: liveness turns red, one line says why, and the error ends the process
        for its supervisor to restart it."""
        self._health.fail(str(exc))
        log.critical(
            "fatal Kafka error; this instance stops so that its supervisor can restart it",
            extra={"error": str(exc), "code": getattr(exc, "code", None)},
        )

    def _recover(self, exc: KafkaClientError, failures: Backoff) -> None:
        # A broker that lost its topics (a dev broker restarted, say) gets them back.
        try:
            self._ensure_topics()
        except KafkaClientError as topic_exc:
            log.warning("could not ensure topics", extra={"error": str(topic_exc)})
        failures.wait("kafka error; retrying", exc, log=log)
