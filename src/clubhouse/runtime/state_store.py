"""``PartitionStore``: one partition's local copy of its changelog, in one SQLite file.

The changelog topic is the source of truth; this file is a cache of it that survives a
restart, so that an instance taking a partition back only reads what changed since. It holds
every key's entry (state and recent commands), the checkpoint (the changelog offset to read
from next) and the highest ownership epoch seen. Entries and checkpoint are written in one
SQLite transaction, so the file is always a consistent prefix of the changelog: after a
crash or a power cut it may be behind, never ahead, and the next restore catches it up.
That is also why it runs with synchronous=NORMAL: a lost last commit only means a longer
restore, never lost state.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path

from clubhouse.messaging.entries import Entry, StateCodec, decode_entry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def partition_store_path(state_dir: Path, changelog_topic: str, partition: int) -> Path:
    """Where the local copy of one changelog partition lives."""
    return state_dir / f"{changelog_topic}-{partition}.sqlite"


class PartitionStore:
    """Entries, checkpoint and epoch of one changelog partition."""

    def __init__(self, path: Path | str, codec: StateCodec | None = None) -> None:
        self._codec = codec  # an app with a state model: how its typed state is read
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self._lock = threading.Lock()  # the service thread writes, a metrics scrape may read
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.checkpoint = self._meta("checkpoint")
        self.epoch = self._meta("epoch")

    @property
    def codec(self) -> StateCodec | None:
        """How the app's typed state is kept in an entry (None: untyped JSON state)."""
        return self._codec

    def get(self, key: str) -> Entry | None:
        """The entry of ``key``, or None when it has none."""
        with self._lock:
            row = self._db.execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return decode_entry(row[0], f"{self.path} key {key!r}", self._codec)

    def items(self) -> list[tuple[str, Entry]]:
        """Every key with its entry, ordered by key."""
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM entries ORDER BY key").fetchall()
        return [(k, decode_entry(v, f"{self.path} key {k!r}", self._codec)) for k, v in rows]

    def write(self, values: Mapping[str, bytes | None], *, checkpoint: int, epoch: int) -> None:
        """Store encoded entries (None, a tombstone, deletes its key) and move the
        checkpoint, at once."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # One statement per kind, not per key: a batch touches many keys.
                self._db.executemany(
                    "DELETE FROM entries WHERE key = ?",
                    [(key,) for key, value in values.items() if value is None],
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?)",
                    [(key, value) for key, value in values.items() if value is not None],
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [("checkpoint", checkpoint), ("epoch", epoch)],
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        self.checkpoint = checkpoint
        self.epoch = epoch

    def close(self) -> None:
        """Close the database; the store is not used afterwards."""
        with self._lock:
            self._db.close()

    def _meta(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])
