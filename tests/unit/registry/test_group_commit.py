"""Group commit: concurrent writes share a commit, and nobody is answered before it is durable.

Every test runs on a real SQLite file. The store's connections are a subclass that only
counts COMMITs and can hold one (until the test lets it go) or fail one; that is how
writes are made to queue behind a commit in flight, and how a failed commit is staged.
Ordering is shown with events and the store's queue, never with timings.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clubhouse.avro.compatibility import CompatibilityLevel
from clubhouse.registry import ApiError, ErrorCode, Mode, Registry, SchemaRequest, Store, create_app
from clubhouse.registry.service import PreparedRegistration
from clubhouse.registry.store import Transaction
from tests.avro_records import record

# Hang guard only: a test that waits this long has already failed.
GUARD_S = 60.0


class CommitProbe:
    """What the store's connections report about COMMIT: a count, an ordered log, and
    commits held for the test to release, or failed on purpose."""

    def __init__(self) -> None:
        self.commits = 0
        self.attempts = 0
        self.log: list[str] = []
        self.holding = False
        self.fail_attempts: set[int] = set()
        self.held: queue.Queue[threading.Event] = queue.Queue()
        self._lock = threading.Lock()

    def note(self, entry: str) -> None:
        with self._lock:
            self.log.append(entry)

    def before_commit(self) -> None:
        release = threading.Event()
        with self._lock:
            self.attempts += 1
            attempt = self.attempts
            if self.holding:
                self.held.put(release)
            else:
                release.set()
        if not release.wait(GUARD_S):
            raise RuntimeError("the test never released a held commit")
        if attempt in self.fail_attempts:
            raise sqlite3.OperationalError("disk I/O error (failed on purpose by the test)")

    def after_commit(self) -> None:
        with self._lock:
            self.commits += 1
            self.log.append(f"commit {self.commits}")

    def release_next(self) -> None:
        """Let the next held commit go on (waiting for it to be reached first)."""
        self.held.get(timeout=GUARD_S).set()

    def stop_holding(self) -> None:
        """Hold no more commits, and let go of any still held (the test expected none)."""
        with self._lock:
            self.holding = False
            while not self.held.empty():
                self.held.get().set()

    def reset(self) -> None:
        with self._lock:
            self.commits = self.attempts = 0
            self.log.clear()


def observed_by(probe: CommitProbe) -> type[sqlite3.Connection]:
    """A real SQLite connection class whose COMMITs ``probe`` sees."""

    class Observed(sqlite3.Connection):
        writing = False  # inside BEGIN IMMEDIATE: read snapshots commit too, and do not count

        def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
            if sql == "BEGIN IMMEDIATE":
                self.writing = True
            elif sql == "ROLLBACK":
                self.writing = False
            if sql != "COMMIT" or not self.writing:
                return super().execute(sql, parameters)
            probe.before_commit()
            cursor = super().execute(sql, parameters)
            self.writing = False
            probe.after_commit()
            return cursor

    return Observed


@pytest.fixture
def probe() -> CommitProbe:
    return CommitProbe()


@pytest.fixture
def observed(tmp_path: Path, probe: CommitProbe) -> Iterator[Store]:
    store = Store(tmp_path / "grouped.db", connection_factory=observed_by(probe))
    yield store
    store.close()


class Calls:
    """Calls run in threads of their own; each outcome noted in the probe's log on return."""

    def __init__(self, probe: CommitProbe) -> None:
        self._probe = probe
        self._threads: list[threading.Thread] = []
        self.results: dict[str, Any] = {}
        self.errors: dict[str, BaseException] = {}

    def start(self, name: str, call: Callable[[], object]) -> None:
        def run() -> None:
            try:
                self.results[name] = call()
            except Exception as exc:
                self.errors[name] = exc
            self._probe.note(f"answered {name}")

        thread = threading.Thread(target=run, name=name)
        self._threads.append(thread)
        thread.start()

    def answered(self) -> set[str]:
        return set(self.results) | set(self.errors)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(GUARD_S)
            assert not thread.is_alive(), f"{thread.name} never returned"


def wait_until(condition: Callable[[], bool], what: str) -> None:
    done = threading.Event()
    for _ in range(int(GUARD_S * 100)):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError(f"never happened: {what}")


def prepared(registry: Registry, subject: str, schema: str) -> Callable[[], object]:
    """The commit half of a registration, prepared now against the current snapshot."""
    request = SchemaRequest(schema)
    ready = registry.prepare_registration(subject, request, normalize=False)
    assert isinstance(ready, PreparedRegistration)
    return lambda: registry.commit_registration(subject, request, ready, normalize=False)


def start_queued(calls: Calls, store: Store, named: dict[str, Callable[[], object]]) -> None:
    """Start each call in turn once the one before it is queued, so the queue keeps their order."""
    for name, call in named.items():
        wanted = store.queued_writes + 1
        calls.start(name, call)
        wait_until(queue_reaches(store, wanted), f"{name} queued")


def queue_reaches(store: Store, length: int) -> Callable[[], bool]:
    return lambda: store.queued_writes == length


def visible(registry: Registry) -> list[str]:
    return registry.subjects(prefix="", deleted=True, deleted_only=False)


def test_registrations_arriving_during_a_commit_share_the_next_one(
    observed: Store, probe: CommitProbe
) -> None:
    registry = Registry(observed)
    registry.set_config(None, CompatibilityLevel.NONE, None)
    writes = {f"s{n}": prepared(registry, f"s{n}", record(f"R{n}", ("a", "int"))) for n in range(8)}
    probe.reset()
    probe.holding = True
    calls = Calls(probe)

    calls.start("s0", writes.pop("s0"))
    first = probe.held.get(timeout=GUARD_S)  # s0's commit is in flight, and held
    start_queued(calls, observed, writes)
    assert calls.answered() == set()
    assert visible(registry) == []  # nothing is committed yet, so nothing may be answered

    first.set()
    probe.release_next()  # the second commit: the seven that queued behind the first
    probe.stop_holding()
    calls.join()

    assert calls.errors == {}
    assert probe.commits == 2
    ids = sorted(r.id for r in calls.results.values())
    assert ids == list(range(1, 9))
    assert visible(registry) == sorted(f"s{n}" for n in range(8))
    log = probe.log
    assert log.index("answered s0") > log.index("commit 1")
    for n in range(1, 8):
        assert log.index(f"answered s{n}") > log.index("commit 2")


def test_nobody_is_answered_while_the_commit_holding_the_write_is_in_flight(
    observed: Store, probe: CommitProbe
) -> None:
    registry = Registry(observed)
    registry.set_config(None, CompatibilityLevel.NONE, None)
    writes = {f"s{n}": prepared(registry, f"s{n}", record(f"R{n}", ("a", "int"))) for n in range(4)}
    probe.holding = True
    calls = Calls(probe)

    calls.start("s0", writes.pop("s0"))
    first = probe.held.get(timeout=GUARD_S)
    start_queued(calls, observed, writes)
    first.set()
    second = probe.held.get(timeout=GUARD_S)  # the group of three, at its commit
    assert observed.queued_writes == 0  # all three are in it
    wait_until(lambda: calls.answered() == {"s0"}, "s0 answered after its own commit")
    assert calls.answered() == {"s0"}  # the three wait on a commit that has not returned
    assert visible(registry) == ["s0"]
    second.set()
    probe.stop_holding()
    calls.join()
    assert calls.answered() == {"s0", "s1", "s2", "s3"}
    assert calls.errors == {}


def test_a_failed_commit_fails_every_write_of_its_group_and_stores_none(
    observed: Store, probe: CommitProbe
) -> None:
    registry = Registry(observed)
    registry.set_config(None, CompatibilityLevel.NONE, None)
    writes = {f"s{n}": prepared(registry, f"s{n}", record(f"R{n}", ("a", "int"))) for n in range(5)}
    probe.reset()
    probe.holding = True
    probe.fail_attempts = {2}
    calls = Calls(probe)

    calls.start("s0", writes.pop("s0"))
    first = probe.held.get(timeout=GUARD_S)
    start_queued(calls, observed, writes)
    first.set()
    probe.release_next()  # the group of four reaches its commit, which fails
    probe.stop_holding()
    calls.join()

    assert set(calls.results) == {"s0"}
    assert set(calls.errors) == {"s1", "s2", "s3", "s4"}
    for error in calls.errors.values():
        assert isinstance(error, ApiError)
        assert (error.status, error.error_code) == (503, ErrorCode.STORE_ERROR)
        assert "disk I/O error" in error.message and "rolled back" in error.message
    assert visible(registry) == ["s0"]
    assert observed.integrity_check() == "ok"

    again = registry.register("s1", SchemaRequest(record("R1", ("a", "int"))), normalize=False)
    assert (again.id, again.version) == (2, 1)  # the failed group left no id, no version


def test_a_refused_write_leaves_the_rest_of_its_group_committed(
    observed: Store, probe: CommitProbe
) -> None:
    """Two registrations, each compatible with version 1, not with each other: the group
    checks the second against the first, staged before it, and refuses it alone."""
    registry = Registry(observed)
    registry.register("s", SchemaRequest(record("S", ("a", "int"))), normalize=False)
    registry.register("lead", SchemaRequest(record("Lead", ("a", "int"))), normalize=False)
    with_string = prepared(registry, "s", record("S", ("a", "int"), ("b", "string", "")))
    with_int = prepared(registry, "s", record("S", ("a", "int"), ("b", "int", 0)))
    other = prepared(registry, "other", record("Other", ("a", "int")))
    lead = prepared(registry, "lead", record("Lead", ("a", "int"), ("c", "int", 0)))
    probe.reset()
    probe.holding = True
    calls = Calls(probe)

    calls.start("lead", lead)
    first = probe.held.get(timeout=GUARD_S)
    start_queued(calls, observed, {"string": with_string, "int": with_int, "other": other})
    first.set()
    probe.release_next()
    probe.stop_holding()
    calls.join()

    assert probe.commits == 2
    assert set(calls.results) == {"lead", "string", "other"}
    refused = calls.errors["int"]
    assert isinstance(refused, ApiError) and refused.status == 409
    assert registry.versions("s", deleted=True, deleted_only=False) == [1, 2]
    assert registry.get_version("s", 2, deleted=False).schema.id == calls.results["string"].id
    assert calls.results["other"].id == calls.results["string"].id + 1  # no id was spent


def test_a_refused_write_that_had_stored_a_schema_undoes_it_alone(
    observed: Store, probe: CommitProbe
) -> None:
    """An import whose version is taken fails after storing its schema row; that row must
    go with it, while the write after it in the group commits."""
    registry = Registry(observed)
    registry.set_mode(None, Mode.IMPORT, force=True)
    kept = record("Kept", ("a", "int"))
    registry.register("imp", SchemaRequest(kept, id=1, version=1), normalize=False)
    clash = SchemaRequest(record("Clash", ("a", "int")), version=1)
    after = SchemaRequest(record("After", ("a", "int")))
    probe.holding = True
    calls = Calls(probe)

    calls.start("lead", lambda: registry.set_config(None, CompatibilityLevel.NONE, None))
    first = probe.held.get(timeout=GUARD_S)
    start_queued(
        calls,
        observed,
        {
            "clash": lambda: registry.register("imp", clash, normalize=False),
            "after": lambda: registry.register("after", after, normalize=False),
        },
    )
    first.set()
    probe.release_next()
    probe.stop_holding()
    calls.join()

    error = calls.errors["clash"]
    assert isinstance(error, ApiError) and error.error_code == ErrorCode.ID_DOES_NOT_MATCH
    assert calls.results["after"].id == 2  # the clash's schema row, id 2 while staged, is gone
    with observed.read() as tx:
        assert [s.id for s in tx.all_schemas()] == [1, 2]
        stored = tx.schema(2)
    assert stored is not None and "After" in stored.schema


def test_a_registration_is_checked_against_a_config_change_staged_before_it(
    observed: Store, probe: CommitProbe
) -> None:
    registry = Registry(observed)
    registry.set_config(None, CompatibilityLevel.NONE, None)
    registry.register("s", SchemaRequest(record("S", ("a", "int"))), normalize=False)
    registry.register("lead", SchemaRequest(record("Lead", ("a", "int"))), normalize=False)
    # Compatible under NONE (when prepared), not under FULL: field a changes type.
    changed = prepared(registry, "s", record("S", ("a", "string")))
    lead = prepared(registry, "lead", record("Lead", ("a", "long")))
    probe.holding = True
    calls = Calls(probe)

    calls.start("lead", lead)
    first = probe.held.get(timeout=GUARD_S)
    start_queued(
        calls,
        observed,
        {
            "config": lambda: registry.set_config("s", CompatibilityLevel.FULL, None),
            "changed": changed,
        },
    )
    first.set()
    probe.release_next()
    probe.stop_holding()
    calls.join()

    assert "config" in calls.results
    refused = calls.errors["changed"]
    assert isinstance(refused, ApiError) and refused.status == 409
    assert registry.versions("s", deleted=False, deleted_only=False) == [1]


def test_concurrent_http_registrations_share_commits(observed: Store, probe: CommitProbe) -> None:
    """Through the API: the requests queued behind a commit in flight are answered after
    one more commit, all of them at once."""
    registry = Registry(observed)
    app = create_app(registry)
    probe.holding = True

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as http:

            def post(n: int) -> asyncio.Future[httpx.Response]:
                body = {"schema": record(f"H{n}", ("a", "int"))}
                return asyncio.ensure_future(http.post(f"/subjects/h{n}/versions", json=body))

            first = post(0)
            held = await asyncio.to_thread(probe.held.get, True, GUARD_S)
            rest = [post(n) for n in range(1, 6)]
            for _ in range(int(GUARD_S * 100)):
                if observed.queued_writes == 5:
                    break
                await asyncio.sleep(0.01)
            assert observed.queued_writes == 5
            assert not first.done() and not any(r.done() for r in rest)
            held.set()
            await asyncio.to_thread(probe.release_next)
            probe.stop_holding()
            return await asyncio.gather(first, *rest)

    probe.reset()
    answers = asyncio.run(scenario())
    assert [a.status_code for a in answers] == [200] * 6
    assert sorted(a.json()["id"] for a in answers) == list(range(1, 7))
    assert probe.commits == 2


def test_a_lone_write_is_committed_at_once(observed: Store, probe: CommitProbe) -> None:
    """With nothing in flight, a write leads its own group and waits for no company."""
    probe.reset()
    observed.write_grouped(lambda tx: tx.set_setting("s", "mode", "READONLY"))
    assert probe.commits == 1
    with observed.read() as tx:
        assert tx.setting("s", "mode") == "READONLY"


def test_a_write_started_from_inside_a_group_is_refused_not_deadlocked(
    observed: Store,
) -> None:
    def nested(tx: Transaction) -> None:
        tx.set_setting("s", "mode", "READONLY")
        observed.write_grouped(lambda inner: inner.set_setting("t", "mode", "IMPORT"))

    with pytest.raises(RuntimeError, match="cannot start another"):
        observed.write_grouped(nested)
    with observed.read() as tx:
        assert (tx.setting("s", "mode"), tx.setting("t", "mode")) == (None, None)
    observed.write_grouped(lambda tx: tx.set_setting("u", "mode", "IMPORT"))  # still serving
