"""``clubhouse state get|list``: the committed state, as the handler last saw it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from clubhouse.cli.main import cli
from tests.apps import misbehaving
from tests.integration.service.conftest import Env
from tests.integration.service.test_misbehaving_app import _client, _count

pytestmark = pytest.mark.integration


def _state(env: Env, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["state", *args, "--bootstrap-servers", env.bootstrap,
                                      "--topic-prefix", env.prefix, "--json"])  # fmt: skip
    return result.exit_code, result.stdout


def test_state_get_and_list_show_what_the_handlers_last_saw(env: Env) -> None:
    env.start_service(app=misbehaving.app)
    keys = [f"k{i}" for i in range(6)]
    with _client(env) as client:
        last = {k: [_count(client, k) for _ in range(i + 1)][-1] for i, k in enumerate(keys)}
    for key in keys:
        code, out = _state(env, "get", key)
        assert code == 0, out
        assert json.loads(out)["state"] == {"n": last[key]}
    code, out = _state(env, "get", "never-seen")
    assert code == 1 and json.loads(out) == {"key": "never-seen", "state": None}
    code, out = _state(env, "list", "--limit", "4")
    assert code == 0, out
    listed = json.loads(out)
    assert [s["key"] for s in listed] == keys[:4]
    assert all(s["state"] == {"n": last[s["key"]]} for s in listed)


def test_get_state_on_the_health_port_answers_for_owned_keys_and_names_the_owner(
    env: Env, tmp_path: Path, broker_kind: str
) -> None:
    # Tansu 0.6 describes a group's members without their assignments: the owner is unknown.
    owners_known = broker_kind == "kafka"
    one = env.start_service(app=misbehaving.app, metrics_port=0, instance_id="one")
    two = env.start_service(app=misbehaving.app, metrics_port=0, instance_id="two",
                            state_dir=tmp_path / "two")  # fmt: skip
    keys = [f"q{i}" for i in range(8)]
    with _client(env) as client:
        last = {k: _count(client, k) for k in keys}
    urls = {name: f"http://127.0.0.1:{s.metrics_port}" for name, s in (("one", one), ("two", two))}
    deadline = time.monotonic() + 60
    for key in keys:
        while True:  # until the group has settled on who owns what
            answers = {n: httpx.get(f"{u}/state/{key}") for n, u in urls.items()}
            owners = [n for n, a in answers.items() if a.status_code == 200]
            others = [a.json() for a in answers.values() if a.status_code == 404]
            owner = owners[0] if owners and owners_known else None
            if len(owners) == 1 and others and others[0].get("owner") == owner:
                break
            assert time.monotonic() < deadline, {n: a.text for n, a in answers.items()}
            time.sleep(0.5)
        assert answers[owners[0]].json()["state"] == {"n": last[key]}
        assert others[0]["owned_here"] is False
    while True:  # a key without state: its owner says so (once no rebalance is under way)
        missing = [httpx.get(f"{u}/state/nobody").json() for u in urls.values()]
        if any(m.get("owned_here") is True and "no state" in m["error"] for m in missing):
            break
        assert time.monotonic() < deadline + 30, missing
        time.sleep(0.5)
