"""Durable keyed state and command outcomes, behind ``StateStore``; SQLite by default.

Each key (an agent id, an order id: whatever field the handler declared) owns one JSON
object of state. A command's state change, its dedupe record and the messages it produced
are written in one transaction. A redelivered command then finds its outcome and
re-publishes the same messages instead of acting twice, so a crash between "state saved"
and "response acknowledged" loses nothing and duplicates no effect.

``batch()`` groups the commands of one consumed batch into one transaction, so the durable
commit (an fsync) is paid once per batch instead of once per command. The caller publishes
and commits offsets only after the batch has left the ``with`` block: a crash before that
commit loses the whole batch's state *and* leaves its offsets uncommitted, so every command
in it is redelivered and handled afresh, just as if it had never been seen.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

State = dict[str, Any]  # one key's state: a JSON object


@dataclass(frozen=True, slots=True)
class StoredOutput:
    """A produced message, kept as its model name and JSON so it can be rebuilt exactly."""

    model: str
    payload: str


class StateStore(Protocol):
    """Where keyed state and command outcomes live."""

    def get(self, key: str) -> State | None:
        """The state of ``key``, or None when it has none."""
        ...

    def items(self) -> list[tuple[str, State]]:
        """Every key with its state, ordered by key."""
        ...

    def outcome(self, command_id: UUID) -> list[StoredOutput] | None:
        """The outputs of an already processed command, or ``None`` if it is new."""
        ...

    def apply(
        self,
        command_id: UUID,
        changes: Mapping[str, State | None],
        outputs: Sequence[StoredOutput],
    ) -> None:
        """Set each key's new state (None deletes it) and record the outcome, atomically."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Make every ``apply`` inside the ``with`` block durable together, at its end.

        Each ``apply`` stays atomic on its own; reads inside the block see its changes. If
        the block raises, none of its changes is kept.
        """
        ...

    def prune_outcomes(self, older_than: timedelta) -> int:
        """Forget outcomes older than ``older_than``; returns how many were removed."""
        ...

    def close(self) -> None:
        """Release the store; it is not used afterwards."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS keyed_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS command_outcomes (
    command_id TEXT PRIMARY KEY,
    outputs TEXT NOT NULL,
    processed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS command_outcomes_processed_at ON command_outcomes(processed_at);
"""

# Databases written before state was keyed kept agents in a table of their own; their rows
# become the keyed state the built-in agent app reads, once, on open.
_MIGRATE_AGENTS = """
INSERT OR IGNORE INTO keyed_state (key, value)
SELECT agent_id, json_object(
    'personality_type', personality_type, 'name', name, 'role', role, 'state', state,
    'metadata', json(metadata), 'created_at', created_at)
FROM agents;
DROP TABLE agents;
"""


class SqliteStateStore:
    """StateStore in one SQLite file (WAL, synchronous=FULL: a commit survives a power cut).

    synchronous=NORMAL would skip the fsync at each commit, but then a power cut could lose
    commits whose responses were already published and whose offsets were already committed:
    state lost for commands that will never be redelivered. Batching commits is how the
    fsync is made cheap instead.
    """

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._path = str(path)
        # Reentrant: a batch holds it from BEGIN to COMMIT, so that other threads never read
        # the batch's uncommitted changes, while the batch's own thread keeps using the store.
        self._lock = threading.RLock()
        self._in_batch = False
        self._db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        legacy = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'agents'"
        ).fetchone()
        if legacy is not None:
            self._db.executescript(f"BEGIN IMMEDIATE; {_MIGRATE_AGENTS} COMMIT;")

    def get(self, key: str) -> State | None:
        """The state stored under ``key``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM keyed_state WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def items(self) -> list[tuple[str, State]]:
        """Every key with its state, sorted by key."""
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM keyed_state ORDER BY key").fetchall()
        return [(k, dict(json.loads(v))) for k, v in rows]

    def outcome(self, command_id: UUID) -> list[StoredOutput] | None:
        """The outputs recorded for ``command_id``, or None if it was never applied."""
        with self._lock:
            row = self._db.execute(
                "SELECT outputs FROM command_outcomes WHERE command_id = ?", (str(command_id),)
            ).fetchone()
        if row is None:
            return None
        return [StoredOutput(m, p) for m, p in json.loads(row[0])]

    def apply(
        self,
        command_id: UUID,
        changes: Mapping[str, State | None],
        outputs: Sequence[StoredOutput],
    ) -> None:
        """Write ``changes`` (None deletes) and ``command_id``'s ``outputs`` atomically."""
        now = datetime.now(UTC).isoformat()
        with self._lock:
            # Inside a batch a savepoint keeps this command atomic on its own; outside, it is
            # a transaction of its own, committed (and fsynced) here.
            begin, commit, rollback = (
                ("SAVEPOINT apply", "RELEASE apply", ("ROLLBACK TO apply", "RELEASE apply"))
                if self._in_batch
                else ("BEGIN IMMEDIATE", "COMMIT", ("ROLLBACK",))
            )
            self._db.execute(begin)
            try:
                for key, state in changes.items():
                    if state is None:
                        self._db.execute("DELETE FROM keyed_state WHERE key = ?", (key,))
                    else:
                        self._db.execute(
                            "INSERT OR REPLACE INTO keyed_state VALUES (?, ?)",
                            (key, json.dumps(state)),
                        )
                self._db.execute(
                    "INSERT INTO command_outcomes VALUES (?, ?, ?)",
                    (str(command_id), json.dumps([[o.model, o.payload] for o in outputs]), now),
                )
                self._db.execute(commit)
            except BaseException:
                # One statement at a time: executescript() would COMMIT an open batch first.
                for statement in rollback:
                    self._db.execute(statement)
                raise

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction, committed once, around several ``apply`` calls; batches do not nest."""
        with self._lock:
            if self._in_batch:
                raise RuntimeError("batches do not nest")
            self._db.execute("BEGIN IMMEDIATE")
            self._in_batch = True
            try:
                yield
                self._in_batch = False
                self._db.execute("COMMIT")  # the one durable write of the whole batch
            except BaseException:
                self._in_batch = False
                if self._db.in_transaction:  # a failed COMMIT can leave it open
                    self._db.execute("ROLLBACK")
                raise

    def prune_outcomes(self, older_than: timedelta) -> int:
        """Forget outcomes processed more than ``older_than`` ago; how many went."""
        cutoff = (datetime.now(UTC) - older_than).isoformat()
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM command_outcomes WHERE processed_at < ?", (cutoff,)
            )
        return cursor.rowcount

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()
