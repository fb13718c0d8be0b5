"""The loop that reads the topics an app's event and response handlers follow, and forwards
each record a handler takes to the app's commands topic, exactly once.

It runs beside the service loop, in a consumer group of its own (``{group}-feeds``), so the
followed topics' partitions are shared out among the instances like the commands are. Each
batch is forwarded in one transaction together with its offsets (``BatchCommitter``); a
batch that must be done again is rewound and forwarded afresh. It keeps no state: the
state of a followed message's key is the commands partition's, where it is handled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from clubhouse.messaging.feed_router import FeedRouter
from clubhouse.messaging.outbound import Outbound
from clubhouse.retry import DEFAULT_RETRY, RetryPolicy
from clubhouse.runtime.committers import BatchCommitter
from clubhouse.services.error_policy import Disposition, disposition
from clubhouse.services.kafka_errors import KafkaClientError
from clubhouse.services.kafka_protocol import ConsumedRecord, KafkaConsumerProtocol, TopicOffset

log = logging.getLogger(__name__)


class FeedLoop:
    """Runs until ``stop`` is set; each batch is forwarded (or redone) before the next."""

    def __init__(
        self,
        *,
        consumer: KafkaConsumerProtocol,
        router: FeedRouter,
        committer: BatchCommitter,
        topics: Sequence[str],
        batch_size: int = 200,
        poll_timeout_s: float = 0.1,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._consumer = consumer
        self._router = router
        self._committer = committer
        self._topics = list(topics)
        self._batch_size = batch_size
        self._poll_timeout = poll_timeout_s
        self._retry = retry

    def run(self, stop: threading.Event) -> None:
        """Forward until ``stop`` is set; a fatal Kafka error is raised to the caller."""
        self._consumer.subscribe(self._topics)
        log.info("following topics for event and response handlers",
                 extra={"topics": self._topics})  # fmt: skip
        failures = self._retry.backoff(stop)
        while not stop.is_set():
            try:
                records = self._consumer.poll_batch(self._batch_size, self._poll_timeout)
            except KafkaClientError as exc:
                if disposition(exc) is Disposition.FATAL:
                    raise
                failures.wait("kafka error while following topics; retrying", exc, log=log)
                continue
            failures.reset()
            if records:
                self._forward(records, stop)

    def _forward(self, records: Sequence[ConsumedRecord], stop: threading.Event) -> None:
        outbound: list[Outbound] = []
        for record in records:
            routed = self._router.route(record)
            if routed is not None:
                outbound.append(routed)
        if self._committer.commit(records, outbound, stop) is None:
            self._rewind(records)

    def _rewind(self, records: Sequence[ConsumedRecord]) -> None:
        """Back to the batch's first records, to be forwarded again."""
        first: dict[tuple[str, int], int] = {}
        for r in records:
            where = (r.topic, r.partition)
            first[where] = min(first.get(where, r.offset), r.offset)
        assigned = set(self._consumer.assignment())
        offsets = [
            TopicOffset(t, p, o) for (t, p), o in sorted(first.items()) if (t, p) in assigned
        ]
        if not offsets:
            return  # moved to another instance, which starts from the committed offsets
        try:
            self._consumer.seek(offsets)
        except KafkaClientError as exc:
            log.warning("could not rewind the followed topics", extra={"error": str(exc)})
