"""The consume -> process -> publish -> commit loop, with at-least-once delivery.

A batch's offsets are committed only after the broker has acknowledged every record the
batch produced. If publishing fails for a transient reason (a broker restart, say) the loop
keeps retrying the same records with backoff instead of moving on, so nothing acknowledged
is ever skipped; commands already handled are deduplicated by the processor, so a retry
never repeats an effect. A record the broker will never take (too large, invalid, not
authorized) is replaced through the PublishGuard instead, so it cannot block its partition.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence

from clubhouse.messaging.outbound import Outbound
from clubhouse.messaging.processor import CommandProcessor
from clubhouse.messaging.publish_guard import PublishGuard
from clubhouse.observability import Health, ServiceMetrics
from clubhouse.services.kafka_errors import BatchDeliveryError, KafkaClientError
from clubhouse.services.kafka_protocol import (
    ConsumedRecord,
    KafkaConsumerProtocol,
    KafkaProducerProtocol,
)

log = logging.getLogger(__name__)


class ServiceLoop:
    """Runs until ``stop`` is set; each batch is published and committed before the next."""

    def __init__(
        self,
        *,
        consumer: KafkaConsumerProtocol,
        producer: KafkaProducerProtocol,
        processor: CommandProcessor,
        guard: PublishGuard,
        commands_topic: str,
        metrics: ServiceMetrics,
        health: Health,
        ensure_topics: Callable[[], None] = lambda: None,
        batch_size: int = 200,
        poll_timeout_s: float = 0.1,
        publish_timeout_s: float = 30.0,
        max_backoff_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumer = consumer
        self._producer = producer
        self._processor = processor
        self._guard = guard
        self._topic = commands_topic
        self._metrics = metrics
        self._health = health
        self._ensure_topics = ensure_topics
        self._batch_size = batch_size
        self._poll_timeout = poll_timeout_s
        self._publish_timeout = publish_timeout_s
        self._max_backoff = max_backoff_s
        self._clock = clock

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, then leave the group; the caller closes the clients."""
        self._consumer.subscribe([self._topic])
        self._health.set_ready(True)
        log.info("consuming commands", extra={"topic": self._topic})
        backoff = 0.0
        try:
            while not stop.is_set():
                self._health.beat()
                try:
                    records = self._consumer.poll_batch(self._batch_size, self._poll_timeout)
                except KafkaClientError as exc:
                    backoff = self._recover(exc, backoff, stop)
                    continue
                backoff = 0.0
                if records:
                    self._health.working()
                    self._handle(records, stop)
        finally:
            self._health.set_ready(False)

    def _handle(self, records: Sequence[ConsumedRecord], stop: threading.Event) -> None:
        started = self._clock()
        outbound: list[Outbound] = []
        # Counted per batch, then added to the metrics once per label: a labels() lookup per
        # record was a measurable share of the per-command cost.
        handled: Counter[tuple[str, str]] = Counter()
        # State and outcomes of the whole batch are stored (one fsync) before anything of it
        # is published, and its offsets are committed only after publishing.
        with self._processor.batch():
            for record in records:
                processed = self._processor.process(
                    record.value, key=record.key, source=record.source
                )
                outbound.extend(processed.records)
                handled[(processed.message_type, processed.kind)] += 1
        for (message_type, kind), count in handled.items():
            self._metrics.messages.labels(message_type, kind).inc(count)
        if not self._publish(outbound, stop):
            return  # stopping: leave the batch uncommitted; it is redelivered on restart
        self._commit(records)
        self._health.progressed()
        elapsed = self._clock() - started
        per_type: Counter[str] = Counter()
        for (message_type, _), count in handled.items():
            per_type[message_type] += count
        for message_type, count in per_type.items():
            histogram = self._metrics.latency.labels(message_type)
            for _ in range(count):
                histogram.observe(elapsed)
        for topic, count in Counter(out.topic for out in outbound).items():
            self._metrics.published.labels(topic).inc(count)

    def _publish(self, outbound: Sequence[Outbound], stop: threading.Event) -> bool:
        """Publish until acknowledged or replaced; False only when asked to stop first."""
        pending = [r for r in map(self._guard.fit, outbound) if r is not None]
        backoff = 0.0
        while True:
            try:
                pending = self._send(pending)
                if not pending:
                    return True
                # Otherwise: the replacements of records refused for good, still to send.
            except KafkaClientError as exc:
                if stop.is_set():
                    log.warning("stopping with an unpublished batch; it will be redelivered")
                    return False
                # A broker that forgot this producer's id (a restart, say) leaves an idempotent
                # producer failed for good; a fresh one gets a new id. Re-sending the batch can
                # duplicate a record, never lose one, and consumers dedupe by message id.
                self._producer.rebuild(f"publish failed: {exc}")
                backoff = self._recover(exc, backoff, stop)

    def _send(self, pending: list[Outbound]) -> list[Outbound]:
        """Produce ``pending``; returns the replacements of records the broker refused for good.

        When any failure is transient the error is raised and the whole batch is sent again:
        a record that may yet go through is never replaced.
        """
        if not pending:
            return []
        try:
            self._producer.produce_batch(pending, timeout=self._publish_timeout)
        except BatchDeliveryError as exc:
            if not all(e.permanent_reason for e in exc.failed.values()):
                raise
            replacements = (
                self._guard.replace(pending[i], e.permanent_reason or "", str(e))
                for i, e in exc.failed.items()
            )
            return [r for r in replacements if r is not None]
        return []

    def _commit(self, records: Sequence[ConsumedRecord]) -> None:
        try:
            self._consumer.commit_records(records)
        except KafkaClientError as exc:
            # The records were answered; a lost commit only means they may be redelivered,
            # and then deduplicated, so this is not worth stopping for.
            log.warning(
                "offset commit failed; records may be redelivered", extra={"error": str(exc)}
            )

    def _recover(self, exc: Exception, backoff: float, stop: threading.Event) -> float:
        backoff = min(self._max_backoff, max(0.2, backoff * 2))
        log.warning(
            "kafka error; retrying", extra={"error": str(exc), "retry_in_s": round(backoff, 2)}
        )
        try:
            # A broker that lost its topics (a dev broker restarted, say) gets them back.
            self._ensure_topics()
        except KafkaClientError as topic_exc:
            log.warning("could not ensure topics", extra={"error": str(topic_exc)})
        stop.wait(backoff)
        return backoff
