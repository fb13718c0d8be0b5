"""Reading keyed state from outside the service: the committed changelog, read the way an
owner restores it (``read_committed``, newest record of a key wins, the epoch rule applied,
malformed records skipped)."""

from __future__ import annotations

from dataclasses import dataclass

from clubhouse.application.context import State
from clubhouse.messaging.entries import StateCodec
from clubhouse.runtime.restore import ChangelogRestorer, PartitionReader
from clubhouse.runtime.state_store import PartitionStore
from clubhouse.services.partitioning import Partitioner, partition_for


@dataclass(frozen=True, slots=True)
class KeyState:
    """One key's committed state and the changelog partition that holds it."""

    key: str
    partition: int
    state: State


class StateQuery:
    """Committed state of a changelog topic with ``partitions`` partitions."""

    def __init__(
        self,
        read_to_end: PartitionReader,
        changelog_topic: str,
        partitions: int,
        *,
        partitioner: Partitioner = "murmur2",
        timeout_s: float = 60.0,
        codec: StateCodec | None = None,
    ) -> None:
        self._restorer = ChangelogRestorer(read_to_end, changelog_topic, timeout_s=timeout_s)
        self._codec = codec  # an app with a state model: its typed state, read as JSON values
        self._partitions = partitions
        self._partitioner = partitioner

    def get(self, key: str) -> KeyState | None:
        """``key``'s state, reading only the partition that owns it; None when it has none."""
        partition = partition_for(key.encode(), self._partitions, self._partitioner)
        for found in self._read(partition):
            if found.key == key:
                return found
        return None

    def every(self, limit: int | None = None) -> list[KeyState]:
        """Every key with state, ordered by key; at most ``limit`` of them."""
        found: list[KeyState] = []
        for partition in range(self._partitions):
            found.extend(self._read(partition))
        found.sort(key=lambda s: s.key)
        return found if limit is None else found[:limit]

    def _read(self, partition: int) -> list[KeyState]:
        store = PartitionStore(":memory:", self._codec)
        try:
            self._restorer.restore(store, partition)
            return [KeyState(k, partition, e.state) for k, e in store.items()
                    if e.state is not None]  # fmt: skip
        finally:
            store.close()
