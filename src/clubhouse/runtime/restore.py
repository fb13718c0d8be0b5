"""Bringing a partition's local store up to date with its changelog, before it is served.

A restore reads the changelog partition from the store's checkpoint to its end, as a
``read_committed`` reader, and applies each record in log order: the newest record of a key
wins, a tombstone deletes it. The end is where the broker reports end-of-partition for a
``read_committed`` reader (the last stable offset), not a watermark: Tansu's watermarks are
unreliable (docs/architecture.md, "Tansu and Apache Kafka").

The epoch rule: a record written with an epoch lower than one already applied is skipped.
Each owner writes with an epoch above every one it restored, so a record with a lower epoch
after it can only come from a deposed owner that went on writing (a frozen process resumed).
On Apache Kafka such records are in aborted transactions and never read; on Tansu, which
shows aborted records to ``read_committed`` readers (measured), the rule is what keeps them
out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from clubhouse.messaging.entries import ChangelogError, decode_entry
from clubhouse.runtime.changelog import record_epoch
from clubhouse.runtime.state_store import PartitionStore
from clubhouse.services.kafka_protocol import ConsumedRecord, TopicOffset

log = logging.getLogger(__name__)

# Restores write to the store in chunks: memory stays bounded, and a restore interrupted by
# a crash resumes from the last chunk.
_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Restored:
    """What one restore did."""

    partition: int
    records: int  # changelog records read
    skipped: int  # of those, left out by the epoch rule
    start_offset: int
    end_offset: int
    seconds: float
    # The changelog ended before the local copy's checkpoint: the topic was deleted and
    # created again (a dev broker that keeps nothing across a restart). The local copy is
    # then all that is left of the state, and is kept.
    log_reset: bool = False
    malformed: int = 0  # records skipped as malformed (a stray writer's, say), with a warning


# A reader of one partition: from offset, records to the callback, until its end; returns
# the offset after the last record (``KafkaConsumer.read_to_end``).
PartitionReader = Callable[[TopicOffset, float, Callable[[ConsumedRecord], None]], int]


class ChangelogRestorer:
    """Restores partition stores from the changelog topic."""

    def __init__(
        self,
        read_to_end: PartitionReader,
        changelog_topic: str,
        *,
        timeout_s: float = 600.0,
        estimate_end: Callable[[int], int | None] = lambda partition: None,
        on_progress: Callable[[int, int | None], None] = lambda partition, lag: None,
        on_skipped: Callable[[str], None] = lambda reason: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read_to_end
        self._topic = changelog_topic
        self._timeout = timeout_s
        self._estimate_end = estimate_end
        self._on_progress = on_progress
        self._on_skipped = on_skipped  # a malformed record, by reason
        self._clock = clock

    def restore(self, store: PartitionStore, partition: int) -> Restored:
        """Apply the changelog from ``store.checkpoint`` to its end; the store is then current."""
        started = self._clock()
        start = store.checkpoint
        estimate = self._estimate_end(partition)
        replay = _Replay(store, partition, estimate, self._on_progress, self._on_skipped)
        # Never from beyond the reported end: Tansu never answers a fetch there (a topic
        # created again after a dev broker restart, say). Its end can be reported a little
        # too low, and then the records read twice are applied again, to the same result.
        read_from = start if estimate is None else min(start, estimate)
        if estimate == 0 and start == 0:
            # Empty, and nothing local: waiting for the end-of-partition event would only
            # cost time (seconds on Tansu without the dev tuning). A partition with any
            # record reports an end of at least 1, even on Tansu.
            end = 0
        else:
            where = TopicOffset(self._topic, partition, read_from)
            end = self._read(where, self._timeout, replay.apply)
        reset = end < start
        if reset:
            log.warning(
                "the changelog partition ends before the local copy's checkpoint (was the topic "
                "created again?); keeping the local state, to be written to it again",
                extra={"partition": partition, "checkpoint": start, "log_end": end},
            )
        replay.finish(end if reset else max(end, store.checkpoint))
        result = Restored(
            partition, replay.records, replay.skipped, start, store.checkpoint,
            self._clock() - started, log_reset=reset, malformed=replay.malformed,
        )  # fmt: skip
        log.info(
            "partition restored",
            extra={"partition": partition, "records": result.records, "skipped": result.skipped,
                   "malformed": result.malformed,
                   "from_offset": start, "to_offset": result.end_offset,
                   "seconds": round(result.seconds, 3)},
        )  # fmt: skip
        return result


class _Replay:
    """Applies changelog records to a store in log order, by the epoch rule, in chunks."""

    def __init__(
        self, store: PartitionStore, partition: int, end: int | None,
        on_progress: Callable[[int, int | None], None], on_skipped: Callable[[str], None],
    ) -> None:  # fmt: skip
        self._store = store
        self._partition = partition
        self._end = end
        self._on_progress = on_progress
        self._on_skipped = on_skipped
        self._epoch = store.epoch
        self._chunk: dict[str, bytes | None] = {}
        self._next = store.checkpoint
        self.records = 0
        self.skipped = 0  # by the epoch rule
        self.malformed = 0

    def apply(self, record: ConsumedRecord) -> None:
        self.records += 1
        self._next = record.offset + 1
        checked = self._checked(record)
        if checked is not None:
            key, epoch = checked
            if epoch < self._epoch:
                self.skipped += 1
            else:
                self._epoch = epoch
                self._chunk[key] = record.value
        if self.records % _CHUNK == 0:
            self._flush(self._next)
            lag = None if self._end is None else max(0, self._end - self._next)
            self._on_progress(self._partition, lag)
            log.info("restoring partition", extra={
                "partition": self._partition, "records": self.records, "offset": self._next,
                "lag_estimate": lag,
            })  # fmt: skip

    def _checked(self, record: ConsumedRecord) -> tuple[str, int] | None:
        """The key and epoch of a well-formed record; None, with one warning, for another.

        Anything can be written to a topic: a stray record must neither stop the restore,
        and with it the partition, nor be stored to fail every later command on its key.
        """
        reason, detail = "", ""
        key, epoch = "", 0
        if record.key is None:
            reason, detail = "no_key", "the record has no key"
        else:
            try:
                key = record.key.decode()
            except UnicodeDecodeError as exc:
                reason, detail = "key_not_utf8", f"the key is not UTF-8: {exc}"
        if not reason:
            try:
                epoch = record_epoch(record.headers)
            except ChangelogError as exc:
                detail = str(exc)
                reason = "epoch_not_a_number" if "not a number" in detail else "epoch_out_of_range"
        if not reason and record.value is not None:
            try:
                decode_entry(record.value, record.source, self._store.codec)
            except ChangelogError as exc:
                reason, detail = "value_not_an_entry", str(exc)
        if not reason:
            return key, epoch
        self.malformed += 1
        self._on_skipped(reason)
        log.warning(
            "malformed changelog record skipped",
            extra={"partition": self._partition, "offset": record.offset, "reason": reason,
                   "error": detail[:300]},
        )  # fmt: skip
        return None

    def finish(self, end: int) -> None:
        self._flush(end)
        self._on_progress(self._partition, 0)

    def _flush(self, checkpoint: int) -> None:
        self._store.write(self._chunk, checkpoint=checkpoint, epoch=self._epoch)
        self._chunk = {}


def changelog_state(
    read_to_end: PartitionReader, changelog_topic: str, partitions: int, timeout_s: float = 60.0
) -> dict[str, dict[str, object]]:
    """Every key's state as the changelog holds it, read the way an owner restores it."""
    restorer = ChangelogRestorer(read_to_end, changelog_topic, timeout_s=timeout_s)
    out: dict[str, dict[str, object]] = {}
    for partition in range(partitions):
        store = PartitionStore(":memory:")
        try:
            restorer.restore(store, partition)
            out.update((k, e.state) for k, e in store.items() if e.state is not None)
        finally:
            store.close()
    return dict(sorted(out.items()))
