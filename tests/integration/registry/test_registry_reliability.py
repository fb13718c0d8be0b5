"""Concurrency across processes, crash safety, and hostile input against real servers."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import RegistryFactory

from .conftest import http_client, log_text
from .register_worker import SCHEMAS, SUBJECTS, schema

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("register_worker.py")


def test_four_processes_of_fifty_concurrent_registrations_share_ids_without_duplicates(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    db = tmp_path / "shared.db"
    servers = [registry_factory(db_path=db), registry_factory(db_path=db)]  # one database file
    with http_client(servers[0]) as http:
        assert http.put("/config", json={"compatibility": "NONE"}).status_code == 200
    urls = ",".join(s.url for s in servers)
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), urls, str(n), "50"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(4)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err.decode()
        results.extend(json.loads(out))

    assert len(results) == 200
    assert all(status == 200 for _, _, status, _ in results), [r for r in results if r[2] != 200]
    ids_by_schema: dict[int, set[int]] = {}
    for index, _, _, schema_id in results:
        ids_by_schema.setdefault(index, set()).add(schema_id)
    assert all(len(ids) == 1 for ids in ids_by_schema.values()), ids_by_schema
    distinct_ids = {next(iter(ids)) for ids in ids_by_schema.values()}
    assert len(distinct_ids) == len(ids_by_schema)  # different schemas never share an id

    with http_client(servers[1]) as http:
        for n in range(SUBJECTS):
            subject = f"conc-{n}"
            expected = {i for i in ids_by_schema if i % SUBJECTS == n}
            versions = http.get(f"/subjects/{subject}/versions").json()
            assert versions == list(range(1, len(expected) + 1))
            seen = {http.get(f"/subjects/{subject}/versions/{v}").json()["id"] for v in versions}
            assert seen == {next(iter(ids_by_schema[i])) for i in expected}
        for index, ids in ids_by_schema.items():
            (schema_id,) = ids
            body = http.get(f"/schemas/ids/{schema_id}").json()
            assert json.loads(body["schema"])["name"] == f"Conc{index}"
    assert len(ids_by_schema) <= SCHEMAS


def test_kill_9_during_a_burst_of_writes_loses_no_acknowledged_registration(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    db = tmp_path / "crash.db"
    server = registry_factory(db_path=db)
    with http_client(server) as http:
        http.put("/config", json={"compatibility": "NONE"})
    acknowledged: list[tuple[str, int, int]] = []
    lock = threading.Lock()
    enough = threading.Event()
    killed = threading.Event()
    client = httpx.Client(base_url=server.url, timeout=10.0)

    def register(n: int) -> None:
        if killed.is_set():
            return
        subject = f"crash-{n % 5}"
        try:
            response = client.post(f"/subjects/{subject}/versions", json={"schema": schema(n)})
        except httpx.HTTPError:
            return  # the server died mid-request: not acknowledged, nothing to check
        if response.status_code == 200:
            with lock:
                acknowledged.append((subject, n, response.json()["id"]))
                if len(acknowledged) >= 60:
                    enough.set()

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(register, n) for n in range(2000)]
        assert enough.wait(60), "the burst never got going"
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        killed.set()
        assert server.stop() == -signal.SIGKILL
        for f in futures:
            f.result()
    client.close()
    assert 60 <= len(acknowledged) < 2000  # killed mid-burst

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    restarted = registry_factory(db_path=db)
    with http_client(restarted) as http:
        for subject, n, schema_id in acknowledged:
            found = http.post(f"/subjects/{subject}", json={"schema": schema(n)})
            assert found.status_code == 200, (subject, n, found.text)
            assert found.json()["id"] == schema_id
    restarted.stop()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_hostile_input_gets_a_clear_4xx_never_a_500(registry_factory: RegistryFactory) -> None:
    server = registry_factory()
    good = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
    with http_client(server) as http:
        assert http.post("/subjects/s/versions", json={"schema": good}).status_code == 200

        malformed = http.post(
            "/subjects/s/versions",
            content=b'{"schema": "oops"',
            headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
        )
        assert (malformed.status_code, malformed.json()["error_code"]) == (400, 400)
        assert "not valid JSON" in malformed.json()["message"]

        huge = http.post(
            "/subjects/s/versions",
            content=json.dumps({"schema": "x" * 10_000_000}).encode(),
            headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
        )
        assert (huge.status_code, huge.json()["error_code"]) == (413, 413)
        assert "limit" in huge.json()["message"]
        # The connection survives: the next request on the same client works.
        assert http.get("/subjects").json() == ["s"]

        invalid = http.post(
            "/subjects/s/versions",
            json={"schema": '{"type":"record","name":"R","fields":[{"name":"a","type":"nope"}]}'},
        )
        assert (invalid.status_code, invalid.json()["error_code"]) == (422, 42201)
        assert "nope" in invalid.json()["message"]

        unknown = http.get("/subjects/does-not-exist/versions")
        assert (unknown.status_code, unknown.json()["error_code"]) == (404, 40401)
        assert "does-not-exist" in unknown.json()["message"]

        abc = http.get("/subjects/s/versions/abc")
        assert (abc.status_code, abc.json()["error_code"]) == (422, 42202)
        assert "'abc'" in abc.json()["message"]

        not_an_object = http.post("/subjects/s/versions", json=["schema"])
        assert not_an_object.status_code == 422
        empty = http.post("/subjects/s/versions", content=b"")
        assert empty.status_code == 422
        bad_flag = http.get("/subjects", params={"deleted": "perhaps"})
        assert (bad_flag.status_code, bad_flag.json()["error_code"]) == (400, 400)
    assert "Traceback" not in log_text(server)
