"""``clubhouse state get|list``: the committed state, as the handler last saw it."""

from __future__ import annotations

import json

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
