"""SqliteStateStore: keyed state and outcomes, atomic per command, durable per batch."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from clubhouse.messaging.state_store import SqliteStateStore, StoredOutput


def state(name: str = "a") -> dict[str, object]:
    return {"name": name, "tags": ["x"]}


def test_store_applies_changes_and_outcomes_atomically(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.db")
    cmd, saved = uuid4(), state()
    store.apply(cmd, {"a": saved}, [StoredOutput("M", "{}")])
    assert store.get("a") == saved
    assert store.outcome(cmd) == [StoredOutput("M", "{}")]
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        store.apply(cmd, {"a": None}, [])  # same command twice: refused, rolled back
    assert store.get("a") is not None
    store.apply(uuid4(), {"a": None}, [])
    assert store.get("a") is None
    assert store.outcome(uuid4()) is None


def test_store_batch_commits_once_at_the_end_and_reads_its_own_changes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStateStore(path)
    first, second = uuid4(), uuid4()
    with store.batch():
        store.apply(first, {"a": state("a")}, [StoredOutput("M", "1")])
        assert store.get("a") is not None  # a later command of the batch sees the agent
        assert store.outcome(first) == [StoredOutput("M", "1")]  # ...and dedupes against it
        peek = SqliteStateStore(path)
        assert peek.get("a") is None  # nothing committed yet
        peek.close()
        store.apply(second, {"a": None}, [])
    reopened = SqliteStateStore(path)
    assert reopened.get("a") is None
    assert reopened.outcome(first) == [StoredOutput("M", "1")]
    assert reopened.outcome(second) == []


def test_store_batch_keeps_each_apply_atomic_and_drops_everything_on_error(
    tmp_path: Path,
) -> None:
    store = SqliteStateStore(tmp_path / "s.db")
    cmd = uuid4()
    with store.batch():
        store.apply(cmd, {"a": state("a")}, [])
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            store.apply(cmd, {"b": state("b")}, [])  # refused, and only it rolled back
        assert store.get("b") is None
    assert store.get("a") is not None
    with pytest.raises(RuntimeError, match="boom"), store.batch():
        store.apply(uuid4(), {"c": state("c")}, [])
        raise RuntimeError("boom")
    assert store.get("c") is None
    with pytest.raises(RuntimeError, match="nest"), store.batch(), store.batch():
        pass
    store.apply(uuid4(), {"d": state("d")}, [])  # usable again outside a batch
    assert store.get("d") is not None


def test_store_survives_reopening_and_prunes_old_outcomes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStateStore(path)
    cmd = uuid4()
    store.apply(cmd, {"x": state("x")}, [])
    store.close()
    reopened = SqliteStateStore(path)
    assert reopened.items() == [("x", state("x"))]
    assert reopened.outcome(cmd) == []
    assert reopened.prune_outcomes(timedelta(days=1)) == 0
    assert reopened.prune_outcomes(timedelta(seconds=-1)) == 1
    assert reopened.outcome(cmd) is None


def test_a_database_from_before_keyed_state_keeps_its_agents(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE agents (agent_id TEXT PRIMARY KEY, personality_type TEXT NOT NULL, "
        "name TEXT NOT NULL, role TEXT NOT NULL, state TEXT NOT NULL, metadata TEXT NOT NULL, "
        "created_at TEXT NOT NULL);"
        "INSERT INTO agents VALUES ('old', 'echo', 'Echo old', 'echo', 'active', "
        "'{\"team\": \"x\"}', '2026-01-01T00:00:00+00:00');"
    )
    db.close()
    store = SqliteStateStore(path)
    assert store.items() == [("old", {
        "personality_type": "echo", "name": "Echo old", "role": "echo", "state": "active",
        "metadata": {"team": "x"}, "created_at": "2026-01-01T00:00:00+00:00",
    })]  # fmt: skip
    store.close()
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert ("agents",) not in tables
    assert json.loads(json.dumps(SqliteStateStore(path).get("old")))["name"] == "Echo old"
