"""Durable storage for the registry: SQLite (stdlib) in WAL mode, writes committed in groups.

Every write runs in ``BEGIN IMMEDIATE``, so ids and versions are read and assigned while the
database write lock is held: two server processes on one file, or many concurrent requests
in one process, can never hand out the same id twice or two ids for the same schema. Reads
run in their own snapshot and never wait for writers. ``synchronous=FULL`` makes every
acknowledged write survive a crash of the process or of the machine.

Concurrent writes share transactions (:meth:`Store.write_grouped`, through
:mod:`~clubhouse.registry.group_commit`): each runs in its own savepoint, one after the
other, so each sees what those before it staged and a refused one undoes only its own
changes; then one commit, and one fsync, makes the whole group durable before any of its
callers is answered.

Each thread gets its own connection; the store owns them all and closes them together.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from clubhouse.registry.errors import ApiError, ErrorCode
from clubhouse.registry.group_commit import GroupCommit, Outcome, Work
from clubhouse.registry.records import Reference, StoredSchema, SubjectVersion

log = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA_VERSION = 1
# The wire format carries a schema id in 4 signed bytes; an id above this could never be
# written into a message, so allocation stops here instead of handing it out.
MAX_SCHEMA_ID = 2**31 - 1

_DDL = """
CREATE TABLE IF NOT EXISTS schemas (
    id INTEGER PRIMARY KEY,
    schema TEXT NOT NULL,
    normalized TEXT NOT NULL,
    refs TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    normalized_fingerprint TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS schemas_by_fingerprint ON schemas (fingerprint);
CREATE INDEX IF NOT EXISTS schemas_by_normalized ON schemas (normalized_fingerprint);
CREATE TABLE IF NOT EXISTS versions (
    subject TEXT NOT NULL,
    version INTEGER NOT NULL,
    schema_id INTEGER NOT NULL REFERENCES schemas (id),
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS versions_by_schema ON versions (schema_id);
CREATE TABLE IF NOT EXISTS schema_refs (
    schema_id INTEGER NOT NULL REFERENCES schemas (id),
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (schema_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS schema_refs_by_target ON schema_refs (subject, version);
CREATE TABLE IF NOT EXISTS settings (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
"""

_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class StoreError(ApiError):
    """The database could not serve the request; clients may retry (HTTP 503)."""


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in _BUSY_CODES


def _encode_refs(references: Sequence[Reference]) -> str:
    return json.dumps([ref.to_json() for ref in references], separators=(",", ":"))


def _decode_refs(text: str) -> tuple[Reference, ...]:
    return tuple(
        Reference(name=item["name"], subject=item["subject"], version=int(item["version"]))
        for item in json.loads(text)
    )


def _schema_row(row: sqlite3.Row | tuple[int, str, str, str]) -> StoredSchema:
    return StoredSchema(
        id=int(row[0]), schema=row[1], normalized=row[2], references=_decode_refs(row[3])
    )


def _version_row(row: sqlite3.Row | tuple[str, int, int, int]) -> SubjectVersion:
    return SubjectVersion(
        subject=row[0], version=int(row[1]), schema_id=int(row[2]), deleted=bool(row[3])
    )


class Transaction:
    """The queries and changes the registry needs, inside one open SQLite transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # ---- layout ----------------------------------------------------------------------------

    def layout_version(self) -> int:
        """The database layout's version (SQLite's ``user_version``)."""
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def create_layout(self) -> None:
        """Create the tables and indexes and stamp the layout version."""
        for statement in _DDL.split(";"):
            if statement.strip():
                self._conn.execute(statement)
        self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def integrity_check(self) -> str:
        """SQLite's ``integrity_check`` output: ``ok`` when the file is sound."""
        return "\n".join(str(r[0]) for r in self._conn.execute("PRAGMA integrity_check"))

    # ---- schemas -------------------------------------------------------------------------

    def schema(self, schema_id: int) -> StoredSchema | None:
        """The schema with id ``schema_id``, or None."""
        row = self._conn.execute(
            "SELECT id, schema, normalized, refs FROM schemas WHERE id = ?", (schema_id,)
        ).fetchone()
        return None if row is None else _schema_row(row)

    def schema_ids_by_fingerprint(self, fingerprint: str) -> list[int]:
        """Ids of the schemas with this exact fingerprint, lowest first."""
        rows = self._conn.execute(
            "SELECT id FROM schemas WHERE fingerprint = ? ORDER BY id", (fingerprint,)
        ).fetchall()
        return [int(r[0]) for r in rows]

    def schema_ids_by_normalized(self, fingerprint: str) -> list[int]:
        """Ids of the schemas whose normalized form has this fingerprint, lowest first."""
        rows = self._conn.execute(
            "SELECT id FROM schemas WHERE normalized_fingerprint = ? ORDER BY id", (fingerprint,)
        ).fetchall()
        return [int(r[0]) for r in rows]

    def insert_schema(
        self,
        *,
        schema_id: int | None,
        schema: str,
        normalized: str,
        references: Sequence[Reference],
        fingerprint: str,
        normalized_fingerprint: str,
    ) -> int:
        """Store a schema under ``schema_id``, or under the next free id when it is None."""
        if schema_id is None and self.max_schema_id() >= MAX_SCHEMA_ID:
            raise ApiError(
                422,
                ErrorCode.OPERATION_NOT_PERMITTED,
                f"No schema id is left: id {MAX_SCHEMA_ID}, the largest the wire format can "
                "carry, is taken. Ids come from the highest one in use; import into a "
                "registry whose ids are lower.",
            )
        cursor = self._conn.execute(
            "INSERT INTO schemas"
            " (id, schema, normalized, refs, fingerprint, normalized_fingerprint)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                schema_id,
                schema,
                normalized,
                _encode_refs(references),
                fingerprint,
                normalized_fingerprint,
            ),
        )
        new_id = int(schema_id if schema_id is not None else cursor.lastrowid or 0)
        self._conn.executemany(
            "INSERT INTO schema_refs (schema_id, name, subject, version) VALUES (?, ?, ?, ?)",
            [(new_id, ref.name, ref.subject, ref.version) for ref in references],
        )
        return new_id

    def max_schema_id(self) -> int:
        """The highest schema id given so far; 0 when there are none."""
        row = self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM schemas").fetchone()
        return int(row[0])

    def all_schemas(self) -> list[StoredSchema]:
        """Every stored schema, by id."""
        rows = self._conn.execute(
            "SELECT id, schema, normalized, refs FROM schemas ORDER BY id"
        ).fetchall()
        return [_schema_row(r) for r in rows]

    # ---- subjects and versions -----------------------------------------------------------

    def versions(self, subject: str, *, include_deleted: bool) -> list[SubjectVersion]:
        """The subject's versions, oldest first."""
        sql = "SELECT subject, version, schema_id, deleted FROM versions WHERE subject = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        rows = self._conn.execute(sql + " ORDER BY version", (subject,)).fetchall()
        return [_version_row(r) for r in rows]

    def version(self, subject: str, version: int) -> SubjectVersion | None:
        """Version ``version`` of ``subject``, soft-deleted or not; None if absent."""
        row = self._conn.execute(
            "SELECT subject, version, schema_id, deleted FROM versions"
            " WHERE subject = ? AND version = ?",
            (subject, version),
        ).fetchone()
        return None if row is None else _version_row(row)

    def live_schema_chars(self, subject: str) -> int:
        """The total length of the schema texts of ``subject``'s live versions."""
        row = self._conn.execute(
            "SELECT COALESCE(SUM(LENGTH(s.schema)), 0) FROM versions v"
            " JOIN schemas s ON s.id = v.schema_id WHERE v.subject = ? AND v.deleted = 0",
            (subject,),
        ).fetchone()
        return int(row[0])

    def max_version(self, subject: str) -> int:
        """The highest version ever given in ``subject`` that still exists, soft-deleted or not."""
        row = self._conn.execute(
            "SELECT COALESCE(MAX(version), 0) FROM versions WHERE subject = ?", (subject,)
        ).fetchone()
        return int(row[0])

    def subject_versions_of_schema(
        self, schema_id: int, *, include_deleted: bool
    ) -> list[SubjectVersion]:
        """The subject versions that use ``schema_id``, by subject and version."""
        sql = "SELECT subject, version, schema_id, deleted FROM versions WHERE schema_id = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        rows = self._conn.execute(sql + " ORDER BY subject, version", (schema_id,)).fetchall()
        return [_version_row(r) for r in rows]

    def all_versions(self, *, include_deleted: bool) -> list[SubjectVersion]:
        """Every subject version, by subject and version, soft-deleted ones if asked."""
        sql = "SELECT subject, version, schema_id, deleted FROM versions"
        if not include_deleted:
            sql += " WHERE deleted = 0"
        rows = self._conn.execute(sql + " ORDER BY subject, version").fetchall()
        return [_version_row(r) for r in rows]

    def subjects(self, *, include_deleted: bool, deleted_only: bool) -> list[str]:
        """Subject names, sorted: live ones, or also (or only) fully soft-deleted ones."""
        if deleted_only:
            sql = (
                "SELECT subject FROM versions GROUP BY subject"
                " HAVING MAX(deleted = 0) = 0 ORDER BY subject"
            )
        elif include_deleted:
            sql = "SELECT DISTINCT subject FROM versions ORDER BY subject"
        else:
            sql = "SELECT DISTINCT subject FROM versions WHERE deleted = 0 ORDER BY subject"
        return [str(r[0]) for r in self._conn.execute(sql).fetchall()]

    def has_versions(self, subject: str | None = None) -> bool:
        """Whether ``subject`` (or, when None, any subject) has a version, deleted or not."""
        if subject is None:
            row = self._conn.execute("SELECT 1 FROM versions LIMIT 1").fetchone()
        else:
            row = self._conn.execute(
                "SELECT 1 FROM versions WHERE subject = ? LIMIT 1", (subject,)
            ).fetchone()
        return row is not None

    def insert_version(self, subject: str, version: int, schema_id: int) -> None:
        """Add live version ``version`` of ``subject`` pointing at ``schema_id``."""
        self._conn.execute(
            "INSERT INTO versions (subject, version, schema_id, deleted) VALUES (?, ?, ?, 0)",
            (subject, version, schema_id),
        )

    def soft_delete(self, subject: str, versions: Sequence[int]) -> None:
        """Mark these ``versions`` of ``subject`` deleted."""
        self._conn.executemany(
            "UPDATE versions SET deleted = 1 WHERE subject = ? AND version = ?",
            [(subject, v) for v in versions],
        )

    def hard_delete(self, subject: str, versions: Sequence[int]) -> None:
        """Remove these ``versions`` of ``subject``; their schemas stay, keeping their ids."""
        # Schema rows stay: an id keeps meaning the same schema forever, so re-registering
        # it later gives back the same id.
        self._conn.executemany(
            "DELETE FROM versions WHERE subject = ? AND version = ?",
            [(subject, v) for v in versions],
        )

    def referrers(self, subject: str, version: int, *, include_deleted: bool) -> list[int]:
        """Ids of schemas, still used by some version, that import ``subject`` ``version``."""
        sql = (
            "SELECT DISTINCT r.schema_id FROM schema_refs r"
            " JOIN versions v ON v.schema_id = r.schema_id"
            " WHERE r.subject = ? AND r.version = ?"
        )
        if not include_deleted:
            sql += " AND v.deleted = 0"
        rows = self._conn.execute(sql + " ORDER BY r.schema_id", (subject, version)).fetchall()
        return [int(r[0]) for r in rows]

    # ---- settings (compatibility and mode) ------------------------------------------------

    def setting(self, scope: str, key: str) -> str | None:
        """The value of setting ``key`` in ``scope``, or None."""
        row = self._conn.execute(
            "SELECT value FROM settings WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        return None if row is None else str(row[0])

    def settings(self, key: str) -> dict[str, str]:
        """Setting ``key`` in every scope that has it, by scope."""
        rows = self._conn.execute(
            "SELECT scope, value FROM settings WHERE key = ? ORDER BY scope", (key,)
        ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def set_setting(self, scope: str, key: str, value: str) -> None:
        """Set ``key`` in ``scope`` to ``value``, replacing any earlier value."""
        self._conn.execute(
            "INSERT INTO settings (scope, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
            (scope, key, value),
        )

    def delete_setting(self, scope: str, key: str) -> None:
        """Remove setting ``key`` from ``scope``."""
        self._conn.execute("DELETE FROM settings WHERE scope = ? AND key = ?", (scope, key))


class Store:
    """The registry's SQLite database file, shared safely by threads and processes.

    ``connection_factory`` is the class of the connections it opens (``sqlite3.Connection``,
    or a subclass that observes them in tests); ``max_group`` caps how many writes one
    commit may carry.
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_s: float = 30.0,
        max_idle: int = 16,
        max_group: int = 64,
        connection_factory: type[sqlite3.Connection] = sqlite3.Connection,
    ) -> None:
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self._connection_factory = connection_factory
        # A small pool rather than one connection per thread: worker threads come and go,
        # and a connection left behind by each would leak file handles.
        self._idle: list[sqlite3.Connection] = []
        self._max_idle = max_idle
        self._pool_lock = threading.Lock()
        # Serialising writers inside the process first keeps them out of SQLite's busy-wait
        # loop, which polls with sleeps; other processes still meet at BEGIN IMMEDIATE.
        self._write_lock = threading.Lock()
        self._groups: GroupCommit[Transaction] = GroupCommit(self.run_group, max_group=max_group)
        self._closed = False
        path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout_s,
            isolation_level=None,
            check_same_thread=False,
            factory=self._connection_factory,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._pool_lock:
            if self._closed:
                raise StoreError(503, ErrorCode.STORE_ERROR, "The registry is shutting down.")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            if conn.in_transaction:  # a failed COMMIT must not leak into the next user
                conn.execute("ROLLBACK")
            with self._pool_lock:
                keep = not self._closed and len(self._idle) < self._max_idle
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    def _migrate(self) -> None:
        with self.write() as tx:
            current = tx.layout_version()
            if current > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer Clubhouse (database layout "
                    f"{current}, this one knows {SCHEMA_VERSION}); upgrade Clubhouse."
                )
            tx.create_layout()

    def _busy_error(self, exc: sqlite3.OperationalError, waiting_for: str) -> StoreError:
        return StoreError(
            503,
            ErrorCode.STORE_TIMEOUT,
            f"Timed out after {self._busy_timeout_s:g}s waiting for {waiting_for} of the "
            f"registry database ({exc}); another process holds it. Retry.",
        )

    def _begin(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise self._busy_error(exc, "the write lock") from exc
            raise

    def _commit(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise self._busy_error(exc, "the commit") from exc
            raise _not_committed(exc) from exc
        except sqlite3.Error as exc:
            raise _not_committed(exc) from exc

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A consistent snapshot for several queries; never blocks on writers."""
        with self._connection() as conn:
            try:
                conn.execute("BEGIN")
                try:
                    yield Transaction(conn)
                finally:
                    conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if _busy(exc):
                    raise self._busy_error(exc, "a read snapshot") from exc
                raise

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """One write transaction of its own, holding the database lock; commits on success,
        else rolls back. Concurrent writes are cheaper through :meth:`write_grouped`."""
        with self._connection() as conn, self._write_lock:
            self._begin(conn)
            try:
                yield Transaction(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._commit(conn)

    def write_grouped(self, work: Callable[[Transaction], T]) -> T:
        """``work``'s value, once the commit that holds its changes is on disk.

        ``work`` runs in a write transaction shared with the writes that queued beside it,
        after those queued before it (whose changes it sees), so it must use only the
        transaction it is given. When it raises, its own changes are undone and its error
        comes back here; when the shared commit fails, every write in it gets a StoreError
        and all of them are rolled back.
        """
        return self._groups.run(work)

    @property
    def queued_writes(self) -> int:
        """Writes waiting for the next group commit (the one being written not counted)."""
        return self._groups.queued

    def run_group(self, works: Sequence[Work[Transaction]]) -> list[Outcome]:
        """Run ``works`` in order in one write transaction, each in a savepoint; commit once.

        A work that raises has its own changes rolled back and its exception as its outcome;
        the others go on. Raises, with nothing committed, when the transaction cannot begin,
        a refused work cannot be undone alone, or the commit fails.
        """
        with self._connection() as conn, self._write_lock:
            self._begin(conn)
            tx = Transaction(conn)
            outcomes = [_run_in_savepoint(conn, tx, work) for work in works]
            self._commit(conn)
        return outcomes

    def integrity_check(self) -> str:
        """SQLite's own verdict on the file: ``ok`` when it is sound."""
        with self.read() as tx:
            return tx.integrity_check()

    def close(self) -> None:
        """Close the idle connections (the last one checkpoints the WAL into the file)."""
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _not_committed(exc: sqlite3.Error) -> StoreError:
    return StoreError(
        503,
        ErrorCode.STORE_ERROR,
        f"The registry database could not commit this write ({exc}), nor the writes "
        "committed with it; it is rolled back. Retry: registering the same schema again "
        "gives the same id.",
    )


def _run_in_savepoint(
    conn: sqlite3.Connection, tx: Transaction, work: Work[Transaction]
) -> Outcome:
    conn.execute("SAVEPOINT grouped_write")
    try:
        value = work(tx)
    except Exception as exc:
        try:
            conn.execute("ROLLBACK TO grouped_write")
            conn.execute("RELEASE grouped_write")
        except sqlite3.Error as undo:
            # SQLite ended the whole transaction (as it may on I/O errors or a full disk),
            # so the group's earlier writes are gone too: the group fails as one.
            raise StoreError(
                503,
                ErrorCode.STORE_ERROR,
                f"A registry write failed ({exc}) and took the writes committed with it "
                f"down too ({undo}); all of them are rolled back. Retry.",
            ) from exc
        return Outcome(error=exc)
    conn.execute("RELEASE grouped_write")
    return Outcome(value=value)
