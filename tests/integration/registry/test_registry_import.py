"""`clubhouse registry import` is all or nothing: a bad backup or a refusal part-way leaves the
target as it was (mode included), so the retry needs no --force."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clubhouse.devstack import RegistryServer
from tests.avro_records import record
from tests.conftest import RegistryFactory

from .conftest import http_client
from .test_registry_cli import _populate, cli

pytestmark = pytest.mark.integration


def _state(server: RegistryServer) -> dict[str, Any]:
    """What a client can see of the registry: subjects (deleted too), mode and config."""
    with http_client(server) as http:
        return {
            "subjects": http.get("/subjects", params={"deleted": "true"}).json(),
            "mode": http.get("/mode").json()["mode"],
            "config": http.get("/config").json()["compatibilityLevel"],
        }


def _backup_of(server: RegistryServer) -> dict[str, Any]:
    exported = cli("export", "--url", server.url)
    assert exported.returncode == 0, exported.stderr
    document: dict[str, Any] = json.loads(exported.stdout)
    return document


@pytest.fixture
def backup(registry_factory: RegistryFactory) -> dict[str, Any]:
    source = registry_factory()
    _populate(source)
    return _backup_of(source)


def test_a_refusal_part_way_leaves_nothing_behind_and_the_retry_needs_no_force(
    registry_factory: RegistryFactory, backup: dict[str, Any]
) -> None:
    target = registry_factory()
    empty = _state(target)
    broken = json.loads(json.dumps(backup))
    # The last version (highest id) is not Avro: everything before it was already written.
    last = max((v for s in broken["subjects"] for v in s["versions"]), key=lambda v: int(v["id"]))
    last["schema"] = json.dumps({"type": "record", "name": "X", "fields": [{"name": "a"}]})
    failed = cli("import", "--url", target.url, stdin=json.dumps(broken))
    assert failed.returncode == 1, failed.stderr
    assert "Traceback" not in failed.stderr
    assert "undone" in failed.stderr
    assert _state(target) == empty
    with http_client(target) as http:
        for subject in backup["subjects"]:
            name = subject["name"]
            assert http.get(f"/config/{name}").status_code == 404
            assert http.get(f"/mode/{name}").status_code == 404
        for version in backup["subjects"][0]["versions"]:
            assert http.get(f"/schemas/ids/{version['id']}").status_code == 404

    retried = cli("import", "--url", target.url, stdin=json.dumps(backup))
    assert retried.returncode == 0, retried.stderr
    assert _backup_of(target) == backup


def test_a_bad_global_mode_is_refused_before_anything_is_written(
    registry_factory: RegistryFactory, backup: dict[str, Any]
) -> None:
    target = registry_factory()
    empty = _state(target)
    backup["global"]["mode"] = "READWRITEX"
    result = cli("import", "--url", target.url, stdin=json.dumps(backup))
    assert result.returncode == 2, result.stderr
    assert "global.mode" in result.stderr and "READWRITEX" in result.stderr
    assert _state(target) == empty  # READWRITE, not left in IMPORT


def test_an_id_whose_successor_would_overflow_is_refused_and_the_one_below_is_not(
    registry_factory: RegistryFactory, backup: dict[str, Any]
) -> None:
    target = registry_factory()
    empty = _state(target)
    top = backup["subjects"][-1]["versions"][-1]
    top["id"] = 2**31 - 1
    refused = cli("import", "--url", target.url, stdin=json.dumps(backup))
    assert refused.returncode == 2, refused.stderr
    assert "2147483647" in refused.stderr and "subjects[3].versions[2].id" in refused.stderr
    assert _state(target) == empty

    top["id"] = 2**31 - 2
    accepted = cli("import", "--url", target.url, stdin=json.dumps(backup))
    assert accepted.returncode == 0, accepted.stderr
    with http_client(target) as http:
        answer = http.post("/subjects/after/versions", json={"schema": record("After")})
    assert answer.json()["id"] == 2**31 - 1  # a new schema can still be registered


def test_a_deeply_nested_backup_is_a_clean_error_naming_where(
    registry_factory: RegistryFactory,
) -> None:
    target = registry_factory()
    depth = 200_000
    text = (
        '{"format": "clubhouse-registry-backup", "format_version": 1, '
        '"global": {"compatibility": "BACKWARD", "mode": "READWRITE"}, '
        '"subjects": [{"name": "a", "versions": [], "extra": ' + "[" * depth + "]" * depth + "}]}"
    )
    result = cli("import", "--url", target.url, stdin=text)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    assert "nested deeper than" in result.stderr and "subjects[0].extra" in result.stderr
    assert _state(target)["subjects"] == []


def test_undoing_a_forced_import_keeps_what_the_target_held_before(
    registry_factory: RegistryFactory, backup: dict[str, Any]
) -> None:
    target = registry_factory()
    with http_client(target) as http:
        # The target's own data: a subject under an id the backup does not use, and configs
        # and modes under the backup's subject names, all of which the import overwrites.
        assert http.put("/mode", json={"mode": "IMPORT"}).is_success
        own = {"schema": record("Own"), "id": 1000, "version": 1}
        assert http.post("/subjects/own/versions", json=own).json()["id"] == 1000
        assert http.put("/mode", json={"mode": "READWRITE"}).is_success
        assert http.put("/mode/own", json={"mode": "READONLY"}).is_success
        assert http.put("/config/users-value", json={"compatibility": "FORWARD"}).is_success
        assert http.put("/mode/orders-value", json={"mode": "READWRITE"}).is_success
        assert http.put("/config", json={"compatibility": "FULL_TRANSITIVE"}).is_success
    before = _backup_of(target)
    broken = json.loads(json.dumps(backup))
    last = max((v for s in broken["subjects"] for v in s["versions"]), key=lambda v: v["id"])
    last["schema"] = "{not avro"
    failed = cli("import", "--url", target.url, "--force", stdin=json.dumps(broken))
    assert failed.returncode == 1, failed.stderr
    assert "Invalid schema" in failed.stderr and "undone" in failed.stderr
    assert _backup_of(target) == before
    with http_client(target) as http:
        assert http.get("/config/users-value").json()["compatibilityLevel"] == "FORWARD"
        assert http.get("/mode/orders-value").json()["mode"] == "READWRITE"
        assert http.get("/subjects").json() == ["own"]
