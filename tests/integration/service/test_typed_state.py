"""An app whose state is a Pydantic model, on a real broker and registry: the state is kept
in Avro under its own subject, read back by ``clubhouse state get`` and ``GET /state/{key}``
as the handler left it, gated by ``clubhouse schemas check``, and restored by a later version
of the model that can read it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from clubhouse.client import ClubhouseClient
from clubhouse.devstack.ports import pick_free_port
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings
from tests.apps import typed_state
from tests.apps.typed_state import Add, Added
from tests.integration.service.conftest import Env, stop_process, wait_for_schemas

pytestmark = pytest.mark.integration

APP = "tests.apps.typed_state:app"


def _cli(env: Env, version: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clubhouse.cli.main", *args, "--app", APP, "--topic-prefix",
         env.prefix, "--schema-registry-url", env.registry_url],
        env={**os.environ, "TALLY_VERSION": version}, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def _add(env: Env, text: str) -> Added:
    registry = ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[env.registry_url]))
    with ClubhouseClient.connect(env.kafka, registry, topic_prefix=env.prefix,
                                 app=typed_state.app) as client:  # fmt: skip
        answer = client.request(Add(k="a", text=text), timeout=60)
    assert isinstance(answer, Added), answer
    return answer


def test_typed_state_is_read_gated_and_restored_by_a_compatible_model(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = pick_free_port()
    monkeypatch.setenv("TALLY_VERSION", "1")
    proc = env.service_process("--app", APP, "--metrics-port", str(port))
    try:
        wait_for_schemas(env, proc)
        assert [_add(env, f"x{i}").count for i in range(3)] == [1, 2, 3]
        subjects = httpx.get(f"{env.registry_url}/subjects").json()
        assert f"{env.prefix}-Tally-value" in subjects
        stored = {"count": 3, "last": "x2"}
        got = _cli(env, "1", "state", "get", "a", "--bootstrap-servers", env.bootstrap, "--json")
        assert got.returncode == 0, got.stderr
        assert json.loads(got.stdout)["state"] == stored
        deadline = time.monotonic() + 60
        while (answer := httpx.get(f"http://127.0.0.1:{port}/state/a")).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.2)
        assert answer.json()["state"] == stored
    finally:
        assert stop_process(proc, signal.SIGTERM) == 0

    refused = _cli(env, "bad", "schemas", "check")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Tally.note" in refused.stdout, refused.stdout  # the field, and why
    passed = _cli(env, "2", "schemas", "check")
    assert passed.returncode == 0, passed.stdout + passed.stderr

    # The new version, on an empty state dir: the old state comes back from the changelog.
    monkeypatch.setenv("TALLY_VERSION", "2")
    env.state_dir = env.state_dir.parent / "fresh-state"
    proc = env.service_process("--app", APP)
    try:
        wait_for_schemas(env, proc)
        answer = _add(env, "x3")
        assert (answer.count, answer.note) == (4, "new in v2")
    finally:
        assert stop_process(proc, signal.SIGTERM) == 0
    got = _cli(env, "2", "state", "get", "a", "--bootstrap-servers", env.bootstrap, "--json")
    assert json.loads(got.stdout)["state"] == {"count": 4, "last": "x3", "note": "new in v2"}
