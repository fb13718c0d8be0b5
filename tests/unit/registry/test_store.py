"""The SQLite store: WAL mode, layout versioning, and id assignment under concurrency."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from clubhouse.avro.compatibility import CompatibilityLevel
from clubhouse.registry import Registry, SchemaRequest, Store
from tests.avro_records import record


def test_database_is_in_wal_mode_with_full_sync(store: Store) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.integrity_check() == "ok"
    conn.close()


def test_a_database_from_a_newer_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="newer Clubhouse"):
        Store(path)


def test_failed_writes_roll_back(store: Store) -> None:
    with pytest.raises(ZeroDivisionError), store.write() as tx:
        tx.set_setting("s", "mode", "READONLY")
        _ = 1 / 0
    with store.read() as tx:
        assert tx.setting("s", "mode") is None


def test_two_stores_on_one_file_never_duplicate_ids(tmp_path: Path) -> None:
    """Two Store objects stand in for two server processes sharing the database file."""
    path = tmp_path / "shared.db"
    stores = [Store(path), Store(path)]
    registries = [Registry(s) for s in stores]
    registries[0].set_config(None, CompatibilityLevel.NONE, None)
    schemas = [record(f"R{i}", ("a", "int")) for i in range(12)]

    def register(n: int) -> tuple[int, int]:
        schema_index = n % len(schemas)
        registered = registries[n % 2].register(
            f"s{schema_index % 3}", SchemaRequest(schemas[schema_index]), normalize=False
        )
        return schema_index, registered.id

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(register, range(96)))
    ids_by_schema: dict[int, set[int]] = {}
    for schema_index, schema_id in results:
        ids_by_schema.setdefault(schema_index, set()).add(schema_id)
    assert all(len(ids) == 1 for ids in ids_by_schema.values())
    assert len({next(iter(ids)) for ids in ids_by_schema.values()}) == len(schemas)
    for subject in ("s0", "s1", "s2"):
        versions = registries[0].versions(subject, deleted=False, deleted_only=False)
        assert versions == list(range(1, len(schemas) // 3 + 1))
    for s in stores:
        s.close()


def test_connections_from_finished_threads_do_not_pile_up(tmp_path: Path) -> None:
    """Worker threads come and go; the files they opened must not accumulate."""
    import threading

    import psutil

    path = tmp_path / "pool.db"
    store = Store(path, max_idle=2)
    barrier = threading.Barrier(12)

    def read() -> None:
        with store.read() as tx:
            barrier.wait()  # twelve connections open at once
            tx.setting("", "mode")

    def burst() -> int:
        threads = [threading.Thread(target=read) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return len([f for f in psutil.Process().open_files() if f.path.startswith(str(path))])

    # SQLite defers closing a file while other connections hold locks on it, then reuses
    # those descriptors, so the count levels off after the first burst instead of growing.
    first = burst()
    assert [burst() for _ in range(3)] == [first] * 3
    store.close()
    assert [f for f in psutil.Process().open_files() if f.path.startswith(str(path))] == []


def test_ids_stop_at_the_largest_the_wire_format_carries(registry: Registry) -> None:
    from clubhouse.registry.errors import ApiError, ErrorCode
    from clubhouse.registry.records import Mode

    registry.set_mode(None, Mode.IMPORT, force=True)
    imported = registry.register(
        "imported", SchemaRequest(schema=record("Top"), id=2**31 - 1, version=1), normalize=False
    )
    assert imported.id == 2**31 - 1
    registry.set_mode(None, Mode.READWRITE, force=False)
    with pytest.raises(ApiError, match="No schema id is left") as info:
        registry.register("next", SchemaRequest(schema=record("Next")), normalize=False)
    assert (info.value.status, info.value.error_code) == (422, ErrorCode.OPERATION_NOT_PERMITTED)
    assert registry.subjects(prefix="", deleted=True, deleted_only=False) == ["imported"]
