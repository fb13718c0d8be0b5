"""``GET /state/{key}`` on an instance's health port: the committed state of a key it owns,
or, for another key, which partition and instance own it (Kafka Streams' interactive
queries, kept simple)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from clubhouse.runtime.partitions import OwnedPartitions

log = logging.getLogger(__name__)

# (status, JSON body)
Answer = tuple[int, dict[str, Any]]


class StateEndpoint:
    """Answers state lookups from the partitions this instance owns right now."""

    def __init__(
        self,
        partitions: OwnedPartitions,
        partition_of: Callable[[bytes], int],
        instance_id: str,
        owners: Callable[[], dict[int, str]] = dict,
    ) -> None:
        self._partitions = partitions
        self._partition_of = partition_of
        self._instance = instance_id
        self._owners = owners  # partition -> owning member's client id, asked when needed

    def lookup(self, key: str) -> Answer:
        """What ``GET /state/{key}`` answers."""
        partition = self._partition_of(key.encode())
        where: dict[str, Any] = {"key": key, "partition": partition,
                                 "instance_id": self._instance}  # fmt: skip
        owned = self._partitions.get(partition)
        if owned is None:
            owner = self._owners().get(partition)
            error = f"partition {partition} is not owned by this instance"
            error += f"; {owner} owns it" if owner else ""
            return 404, {**where, "owned_here": False, "owner": owner, "error": error}
        try:
            entry = owned.store.get(key)  # committed state: what a handler last saw
        except sqlite3.ProgrammingError:  # closed just now: the partition is moving away
            error = "the partition is moving to another instance; ask again"
            return 503, {**where, "error": error}
        if entry is None or entry.state is None:
            return 404, {**where, "owned_here": True, "error": "no state for this key"}
        return 200, {**where, "state": entry.state}
