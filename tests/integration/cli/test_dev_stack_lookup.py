"""Every tool finds the dev stack running from the working directory through its dev.env.

The "stack" here is a real registry process and the session broker, recorded the way
``clubhouse dev`` records itself: ``.clubhouse/dev.env`` plus the held ``dev.lock``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from clubhouse.agents.messages import CreateAgentCommand
from clubhouse.cli.connection import write_dev_env
from clubhouse.cli.dev_lock import DataDirLock
from clubhouse.cli.main import cli

pytestmark = pytest.mark.integration


@pytest.fixture
def dev_stack_here(
    kafka_broker: str, registry_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The registry URL of a dev stack recorded in ``tmp_path/.clubhouse``, the cwd."""
    monkeypatch.chdir(tmp_path)
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL"):
        monkeypatch.delenv(name, raising=False)
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_broker, "SCHEMA_REGISTRY_URL": registry_url}
    with DataDirLock(tmp_path / ".clubhouse") as lock:
        lock.record(env)
        write_dev_env(tmp_path / ".clubhouse" / "dev.env", env)
        yield registry_url


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_every_tool_uses_the_dev_stack_and_says_so(dev_stack_here: str, tmp_path: Path) -> None:
    message = CreateAgentCommand(agent_id="a1").model_dump(mode="json")
    (tmp_path / "msg.json").write_text(json.dumps(message))
    runs = {
        "register": invoke("register"),
        "run --register-schemas-only": invoke("run", "--register-schemas-only"),
        "schemas plan": invoke("schemas", "plan"),
        "schemas check": invoke("schemas", "check"),
        "validate": invoke("validate", "--model", "CreateAgentCommand", "--file", "msg.json"),
        "docs build": invoke("docs", "build", "--out", str(tmp_path / "site")),
    }
    for name, (code, output) in runs.items():
        assert code == 0, f"{name}: {output}"
        assert "Using the dev stack running from .clubhouse/dev.env" in output, name
        assert output.count("Using the dev stack") == 1, name
    assert f"schemas in place at {dev_stack_here}" in runs["register"][1]
    assert f"with history from {dev_stack_here}" in runs["docs build"][1]


def test_an_explicit_url_wins_over_the_dev_stack(
    dev_stack_here: str, registry_factory: object, tmp_path: Path
) -> None:
    other = registry_factory().url  # type: ignore[operator]
    code, output = invoke("register", "--url", other)
    assert code == 0, output
    assert "Using the dev stack" not in output
    assert f"schemas in place at {other}" in output
