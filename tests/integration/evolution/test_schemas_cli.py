"""`clubhouse schemas ...` end to end through click, against a real registry."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from clubhouse.cli.main import cli
from clubhouse.devstack.ports import pick_free_port
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.schema_registry import ConfluentSchemaRegistry
from tests.integration.evolution.helpers import MODELS, order, register

pytestmark = pytest.mark.integration


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def schemas(url: str, prefix: str, command: str, version: str, *extra: str) -> Result:
    return run(
        "schemas", command, "--url", url, "--topic-prefix", prefix,
        "--models", f"{MODELS}.{version}", *extra,
    )  # fmt: skip


def test_check_exit_codes_and_reasons(
    registry: ConfluentSchemaRegistry, session_registry_url: str, prefix: str
) -> None:
    register(registry, prefix, "order_v1")

    ok = schemas(session_registry_url, prefix, "check", "order_compatible")
    bad = schemas(session_registry_url, prefix, "check", "order_added")

    assert ok.exit_code == 0, ok.output
    assert f"Order ({prefix}-Order-value): compatible at BACKWARD against v1" in ok.stdout
    assert bad.exit_code == 1, bad.output
    assert f"Order ({prefix}-Order-value): incompatible at BACKWARD against v1" in bad.stdout
    assert "  Order.priority: reader field missing default value (new schema cannot read v1" in (
        bad.stdout
    )
    assert bad.stdout.rstrip().splitlines()[-1].startswith("FAILED: 1 incompatible")


def test_check_level_flag_json_and_github(
    registry: ConfluentSchemaRegistry, session_registry_url: str, prefix: str
) -> None:
    register(registry, prefix, "order_v1")

    forward = schemas(session_registry_url, prefix, "check", "order_added", "--level", "forward")
    as_json = schemas(session_registry_url, prefix, "check", "order_retyped", "--json")
    github = schemas(session_registry_url, prefix, "check", "order_retyped", "--format", "github")

    assert forward.exit_code == 0, forward.output  # adding a field is FORWARD-compatible
    assert as_json.exit_code == 1
    body = json.loads(as_json.stdout)
    assert body["compatible"] is False
    (entry,) = [m for m in body["models"] if m["model"] == "Order"]
    assert entry["status"] == "incompatible"
    assert entry["level"] == "BACKWARD"
    assert [r["text"] for r in entry["reasons"]] == ["Order.qty: type mismatch"]
    assert github.exit_code == 1
    (annotation,) = [line for line in github.stdout.splitlines() if line.startswith("::error")]
    assert annotation.startswith(
        "::error file=tests/integration/evolution/models/order_retyped.py,line=6,"
        "title=Incompatible schema%3A Order (BACKWARD)::Order.qty: type mismatch"
    )


def test_offline_check_against_exported_files_matches_the_registry(
    session_registry_url: str, prefix: str, tmp_path: Path
) -> None:
    # A release: register every v1 model and export the same models as the baseline.
    released = ("--topic-prefix", prefix, "--models", f"{MODELS}.order_v1")
    registered = run("register", "--schema-registry-url", session_registry_url, *released)
    exported = run("schemas", "export", "--out", str(tmp_path), *released)

    assert registered.exit_code == 0, registered.output
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / f"{prefix}-Order-value.avsc").read_text() == model_schema(
        order("order_v1")
    ) + "\n"
    for version in ("order_compatible", "order_removed", "order_retyped", "order_added"):
        for level in ("BACKWARD", "FORWARD", "FULL"):
            online = schemas(
                session_registry_url, prefix, "check", version, "--level", level, "--json"
            )
            offline = run(
                "schemas", "check", "--against", str(tmp_path), "--topic-prefix", prefix,
                "--models", f"{MODELS}.{version}", "--level", level, "--json",
            )  # fmt: skip
            assert offline.exit_code == online.exit_code, (version, level)
            assert json.loads(offline.stdout)["models"] == json.loads(online.stdout)["models"]


def test_config_errors_exit_2(prefix: str) -> None:
    dead = f"http://127.0.0.1:{pick_free_port()}"
    unreachable = run("schemas", "check", "--url", dead)
    no_url = run("schemas", "plan", env={"SCHEMA_REGISTRY_URL": None})
    bad_models = run("schemas", "check", "--against", ".", "--models", "no.such.module")
    bad_dir = run("schemas", "check", "--against", "/nonexistent/dir")

    assert unreachable.exit_code == 2
    assert "cannot reach the schema registry" in unreachable.output
    assert no_url.exit_code == 2
    assert "--schema-registry-url" in no_url.output
    assert bad_models.exit_code == 2
    assert "no.such.module" in bad_models.output
    assert bad_dir.exit_code == 2


def test_plan_reports_each_outcome_and_writes_nothing(
    registry: ConfluentSchemaRegistry, session_registry_url: str, prefix: str
) -> None:
    subject = register(registry, prefix, "order_v1")
    before = registry.get_subjects()

    unchanged = schemas(session_registry_url, prefix, "plan", "order_v1", "--json")
    new_version = schemas(session_registry_url, prefix, "plan", "order_compatible")
    refused = schemas(session_registry_url, prefix, "plan", "order_added")
    fresh = schemas(session_registry_url, f"{prefix}x", "plan", "order_v1")

    assert unchanged.exit_code == 0
    (step,) = [s for s in json.loads(unchanged.stdout) if s["model"] == "Order"]
    assert (step["action"], step["version"]) == ("unchanged", 1)
    assert new_version.exit_code == 0
    assert f"Order: new version of {subject} after v1 (BACKWARD)" in new_version.stdout
    assert refused.exit_code == 1
    assert f"Order: incompatible with {subject} at BACKWARD; register would fail" in refused.stdout
    assert "'priority'" in refused.stdout  # the registry's own reason is shown
    assert f"Order: new subject {prefix}x-Order-value (version 1)" in fresh.stdout
    assert registry.get_subjects() == before
    assert registry.get_versions(subject) == [1]


def test_diff_shows_field_changes_and_verdicts(
    registry: ConfluentSchemaRegistry, session_registry_url: str, prefix: str
) -> None:
    register(registry, prefix, "order_v1")

    text = schemas(session_registry_url, prefix, "diff", "order_retyped", "Order")
    as_json = schemas(session_registry_url, prefix, "diff", "order_added", "Order", "--json")

    assert text.exit_code == 0, text.output
    assert f"Order ({prefix}-Order-value): local model vs v1" in text.stdout
    assert "  ~ qty: type changed: long -> string" in text.stdout
    assert "BACKWARD* INCOMPATIBLE" in text.stdout
    assert "NONE ok" in text.stdout
    (diff,) = json.loads(as_json.stdout)
    assert diff["changes"] == [
        {"path": "priority", "kind": "added", "old": None, "new": "long (no default)"}
    ]
    assert {lv: v["compatible"] for lv, v in diff["verdicts"].items()} == {
        "BACKWARD": False, "BACKWARD_TRANSITIVE": False, "FORWARD": True,
        "FORWARD_TRANSITIVE": True, "FULL": False, "FULL_TRANSITIVE": False, "NONE": True,
    }  # fmt: skip


def test_download_all_versions_writes_stable_names(
    registry: ConfluentSchemaRegistry, session_registry_url: str, prefix: str, tmp_path: Path
) -> None:
    subject = register(registry, prefix, "order_v1", "order_compatible")

    result = run(
        "schemas", "download", "--url", session_registry_url, "--out", str(tmp_path),
        "--subject", subject, "--all-versions",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {
        f"{subject}.avsc",
        f"{subject}.v1.avsc",
        f"{subject}.v2.avsc",
        "manifest.json",
    }
    assert (tmp_path / f"{subject}.v1.avsc").read_text() == model_schema(order("order_v1")) + "\n"
    latest = model_schema(order("order_compatible")) + "\n"
    assert (tmp_path / f"{subject}.avsc").read_text() == latest
    assert (tmp_path / f"{subject}.v2.avsc").read_text() == latest
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["subjects"][subject] == {"level": "BACKWARD", "version": 2}


def test_set_compatibility_for_a_subject_and_a_model(
    session_registry_url: str, prefix: str
) -> None:
    subject = subject_name(prefix, order("order_v1"))

    by_subject = run(
        "schemas", "set-compatibility", "full_transitive", "--subject", subject,
        "--url", session_registry_url,
    )  # fmt: skip
    level = httpx.get(f"{session_registry_url}/config/{subject}").json()
    by_model = run(
        "schemas", "set-compatibility", "FORWARD", "--model", "Order", "--topic-prefix", prefix,
        "--models", f"{MODELS}.order_v1", "--url", session_registry_url,
    )  # fmt: skip
    after = httpx.get(f"{session_registry_url}/config/{subject}").json()
    invalid = run("schemas", "set-compatibility", "SIDEWAYS", "--url", session_registry_url)

    assert by_subject.exit_code == 0, by_subject.output
    assert level["compatibilityLevel"] == "FULL_TRANSITIVE"
    assert by_model.exit_code == 0, by_model.output
    assert after["compatibilityLevel"] == "FORWARD"
    assert invalid.exit_code == 2
