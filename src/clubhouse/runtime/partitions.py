"""The partitions an instance owns right now, each with its state, opened and restored on
assignment and closed on revocation.

This is the consumer's rebalance listener. Its callbacks run inside ``poll``, between two
batches, so no batch is ever in flight when a partition comes or goes: a partition is
restored from the changelog before the first of its records is handed out, and its store is
closed once it is revoked or lost (its local file stays, as a cache for the next time).
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from clubhouse.messaging.entries import Entry, encode_entry
from clubhouse.runtime.restore import ChangelogRestorer, Restored
from clubhouse.runtime.state_store import PartitionStore, partition_store_path

log = logging.getLogger(__name__)


class PartitionState:
    """One owned partition: its store, its ownership epoch, and the batch in progress.

    Changes made while a batch is processed stay in ``pending`` until the batch is committed
    to Kafka; only then do they reach the store. A batch that fails is discarded, so the
    store never holds what the changelog does not.
    """

    def __init__(
        self, partition: int, store: PartitionStore, epoch: int, *, cache_size: int = 10_000
    ) -> None:
        self.partition = partition
        self.store = store
        self.epoch = epoch
        self.pending: dict[str, tuple[Entry, bytes | None]] = {}
        # Committed entries recently used: reading and decoding one from SQLite again for
        # each command was a visible share of the per-command cost.
        self._cache: dict[str, Entry | None] = {}
        self._cache_size = cache_size

    def get(self, key: str) -> Entry | None:
        """The entry of ``key`` as the batch so far left it."""
        pending = self.pending.get(key)
        if pending is not None:
            return pending[0]
        if key in self._cache:
            return self._cache[key]
        entry = self.store.get(key)
        self._remember(key, entry)
        return entry

    def put(self, key: str, entry: Entry, value: bytes | None) -> None:
        """Change ``key`` within the batch in progress; ``value`` is ``entry`` encoded."""
        self.pending[key] = (entry, value)

    def discard(self) -> None:
        """Forget the batch in progress."""
        self.pending = {}

    def committed(self, changelog_end: int) -> None:
        """The batch is in Kafka up to ``changelog_end``: store it, with that checkpoint."""
        checkpoint = max(self.store.checkpoint, changelog_end)
        values = {key: value for key, (_, value) in self.pending.items()}
        self.store.write(values, checkpoint=checkpoint, epoch=self.epoch)
        for key, (entry, value) in self.pending.items():
            self._remember(key, None if value is None else entry)
        self.pending = {}

    def _remember(self, key: str, entry: Entry | None) -> None:
        if len(self._cache) >= self._cache_size and key not in self._cache:
            del self._cache[next(iter(self._cache))]  # the oldest: dicts keep insertion order
        self._cache[key] = entry


StoreOpener = Callable[[Path], PartitionStore]


class OwnedPartitions:
    """The state of every partition this instance owns; a ``RebalanceListener``."""

    def __init__(
        self,
        *,
        state_dir: Path,
        commands_topic: str,
        changelog_topic: str,
        restorer: ChangelogRestorer,
        more_restorers: Sequence[ChangelogRestorer] = (),
        open_store: StoreOpener = PartitionStore,
        on_restoring: Callable[[bool], None] = lambda restoring: None,
        on_restored: Callable[[Restored], None] = lambda restored: None,
        on_owned: Callable[[int], None] = lambda count: None,
    ) -> None:
        self._dir = state_dir
        self._commands = commands_topic
        self._changelog = changelog_topic
        # One restore at a time per restorer (each reads with a consumer of its own): with
        # several, the partitions of one assignment are restored side by side.
        self._restorers = [restorer, *more_restorers]
        self._open = open_store
        self._on_restoring = on_restoring
        self._on_restored = on_restored
        self._on_owned = on_owned
        self._owned: dict[int, PartitionState] = {}
        # Counts changes of what is owned: a loop holding uncommitted work across polls
        # (a commit interval) sees that a poll moved partitions, and redoes that work.
        self.changes = 0

    def get(self, partition: int) -> PartitionState | None:
        """The state of ``partition`` if this instance owns it."""
        return self._owned.get(partition)

    def __iter__(self) -> Iterator[PartitionState]:
        return iter(list(self._owned.values()))

    def owned(self) -> list[int]:
        """The partition numbers owned now."""
        return sorted(self._owned)

    def on_assigned(self, partitions: list[tuple[str, int]]) -> None:
        """Open and restore each newly assigned commands partition before it is served."""
        mine = [p for t, p in partitions if t == self._commands and p not in self._owned]
        self._on_restoring(True)
        failed: list[tuple[int, Exception]] = []
        free: queue.SimpleQueue[ChangelogRestorer] = queue.SimpleQueue()
        for restorer in self._restorers:
            free.put(restorer)

        def restore(partition: int) -> None:
            restorer = free.get()
            try:
                self._open_and_restore(partition, restorer)
            except Exception as exc:
                failed.append((partition, exc))
            finally:
                free.put(restorer)

        try:
            if len(mine) > 1 and len(self._restorers) > 1:
                workers = min(len(mine), len(self._restorers))
                with ThreadPoolExecutor(workers, thread_name_prefix="restore") as pool:
                    list(pool.map(restore, mine))
            else:
                for partition in mine:
                    restore(partition)
        finally:
            self._on_restoring(False)
            self._on_owned(len(self._owned))
        if failed:
            first = failed[0][1]
            log.error(
                "partition state could not be restored; retried on its next record",
                extra={"partitions": [p for p, _ in failed], "error": str(first)},
            )
            raise first

    def _open_and_restore(self, partition: int, restorer: ChangelogRestorer) -> None:
        store = self._open(partition_store_path(self._dir, self._changelog, partition))
        try:
            restored = restorer.restore(store, partition)
        except BaseException:
            store.close()
            raise
        # Above every epoch restored: records of an owner deposed before this one are told
        # apart from ours by it.
        state = PartitionState(partition, store, store.epoch + 1)
        if restored.log_reset:
            for key, entry in store.items():  # written to the changelog with the next batch
                state.put(key, entry, encode_entry(entry, store.codec))
        self._owned[partition] = state
        self.changes += 1
        self._on_restored(restored)

    def on_revoked(self, partitions: list[tuple[str, int]]) -> None:
        """Close the stores of partitions handed to another instance."""
        self._close([p for t, p in partitions if t == self._commands])

    def on_lost(self, partitions: list[tuple[str, int]]) -> None:
        """Close the stores of partitions taken away without a clean hand-over."""
        self._close([p for t, p in partitions if t == self._commands])

    def discard_pending(self) -> None:
        """Forget every batch in progress (a transaction failed)."""
        for state in self._owned.values():
            state.discard()

    def commit(self, changelog_ends: Mapping[int, int]) -> None:
        """Store every pending batch; ``changelog_ends`` holds the offset after each
        partition's last changelog record of the batch."""
        for partition, state in self._owned.items():
            if state.pending or partition in changelog_ends:
                state.committed(changelog_ends.get(partition, 0))

    def close(self) -> None:
        """Close every store."""
        self._close(list(self._owned))

    def _close(self, partitions: list[int]) -> None:
        for partition in partitions:
            state = self._owned.pop(partition, None)
            if state is not None:
                state.store.close()
                self.changes += 1
        if partitions:
            log.info("partition stores closed", extra={"partitions": partitions})
            self._on_owned(len(self._owned))
