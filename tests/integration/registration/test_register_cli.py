"""`clubhouse register` / `run_clubhouse.py --register-schemas-only` against a real registry."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from clubhouse.cli.main import cli
from clubhouse.registry.auth import hash_password
from tests.conftest import RegistryFactory

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def register(*args: str) -> tuple[int, str]:
    """Exit code, and stdout alone when --json was asked for (logs go to stderr)."""
    result = CliRunner().invoke(cli, ["register", *args])
    return result.exit_code, result.stdout if "--json" in args else result.output


def subject_versions(url: str, subject: str) -> list[int]:
    response = httpx.get(f"{url}/subjects/{subject}/versions")
    return list(response.json()) if response.status_code == 200 else []


def test_register_only_mode_registers_everything_bases_first(registry_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_clubhouse.py"), "--register-schemas-only",
         "--schema-registry-url", registry_url, "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["in_place_count"] == 14
    ids = {r["model"]: r["schema_id"] for r in report["results"]}
    assert ids["BaseMessage"] == min(ids.values())
    subjects = set(httpx.get(f"{registry_url}/subjects").json())
    assert {r["subject"] for r in report["results"]} == subjects
    assert "clubhouse-ProcessMessageCommand-value" in subjects


def test_second_run_creates_no_new_versions(registry_url: str) -> None:
    assert register("--schema-registry-url", registry_url)[0] == 0
    code, out = register("--schema-registry-url", registry_url, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["counts"]["already-registered"] == 14
    assert report["in_place_count"] == 14
    for subject in httpx.get(f"{registry_url}/subjects").json():
        assert subject_versions(registry_url, subject) == [1]


def test_incompatible_change_is_reported_and_not_registered(registry_url: str) -> None:
    v1 = "tests.integration.registration.tickets_v1"
    v2 = "tests.integration.registration.tickets_v2"
    assert register("--schema-registry-url", registry_url, "--models", v1)[0] == 0
    code, out = register("--schema-registry-url", registry_url, "--models", v2)
    assert code == 1
    assert "FAILED clubhouse-TicketCommand-value" in out
    assert "incompatible" in out
    assert subject_versions(registry_url, "clubhouse-TicketCommand-value") == [1]

    code, out = register("--schema-registry-url", registry_url, "--models", v2,
                         "--check-compatibility", "--json")  # fmt: skip
    assert code == 1
    [failed] = [r for r in json.loads(out)["results"] if r["outcome"] == "failed"]
    assert failed["error_type"] == "IncompatibleSchemaError"
    assert any("priority" in m for m in failed["messages"]), failed["messages"]


def test_dry_run_reports_without_writing(registry_url: str) -> None:
    code, out = register("--schema-registry-url", registry_url, "--dry-run", "--json")
    assert code == 0
    assert json.loads(out)["counts"]["would-register"] == 14
    assert httpx.get(f"{registry_url}/subjects").json() == []


def test_registry_down_exits_2_within_the_wait_budget(registry_factory: RegistryFactory) -> None:
    server = registry_factory()
    dead = server.url
    server.stop()
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "clubhouse.cli.main", "register", "--schema-registry-url", dead,
         "--registry-wait", "2"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "cannot reach the schema registry" in proc.stderr
    assert time.monotonic() - start < 30  # generous: bounds a hang, not a speed claim


def test_wrong_credentials_exit_2_with_unauthorized(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    users = tmp_path / "users.txt"
    users.write_text(f"ci:{hash_password('right', log2_n=4)}\n")
    url = registry_factory(basic_auth_file=users).url
    code, out = register("--schema-registry-url", url, "--basic-auth", "ci:wrong")
    assert code == 2
    assert "unauthorized" in out
    assert "wrong" not in out
    code, out = register("--schema-registry-url", url, "--basic-auth", "ci:right")
    assert code == 0, out


def test_user_module_is_registered(registry_url: str) -> None:
    orders = "tests.unit.contracts.usermods.orders"
    code, out = register(
        "--schema-registry-url", registry_url, "--models", orders, "--topic-prefix", "shop"
    )
    assert code == 0, out
    assert subject_versions(registry_url, "shop-PlaceOrderCommand-value") == [1]


def test_bad_module_is_a_usage_error(registry_url: str) -> None:
    code, out = register("--schema-registry-url", registry_url, "--models", "no_such_module")
    assert code == 2
    assert "cannot import contract module 'no_such_module'" in out


def test_register_only_without_a_registry_url_is_a_usage_error() -> None:
    result = CliRunner(env={"SCHEMA_REGISTRY_URL": ""}).invoke(
        cli, ["run", "--register-schemas-only"]
    )
    assert result.exit_code == 2
    assert "no schema registry given: pass --schema-registry-url URL (or --url)" in result.output


def test_transitive_precheck_compares_with_every_version(registry_url: str) -> None:
    base = "tests.integration.registration."
    assert register("--schema-registry-url", registry_url, "--models", base + "tickets_v1")[0] == 0
    assert (
        register("--schema-registry-url", registry_url, "--models", base + "tickets_v1_5")[0] == 0
    )
    httpx.put(
        f"{registry_url}/config/clubhouse-TicketCommand-value",
        json={"compatibility": "BACKWARD_TRANSITIVE"},
    ).raise_for_status()
    # v2 can read v1.5 data (priority is there) but not v1 data (priority missing, no default).
    code, out = register(
        "--schema-registry-url", registry_url, "--models", base + "tickets_v2",
        "--check-compatibility", "--json",
    )  # fmt: skip
    assert code == 1
    [failed] = [r for r in json.loads(out)["results"] if r["outcome"] == "failed"]
    assert failed["error_type"] == "IncompatibleSchemaError"
    # Reasons come from the pre-check itself, not from a refused registration attempt.
    assert any("priority" in m for m in failed["messages"]), failed
    assert subject_versions(registry_url, "clubhouse-TicketCommand-value") == [1, 2]
