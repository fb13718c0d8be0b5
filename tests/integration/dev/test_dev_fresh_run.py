"""Each `clubhouse dev` run begins empty: keyed state, responses and events together, unless
`--keep-state` keeps all three (on Kafka; Tansu keeps its topics in memory only)."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from tests.integration.dev.test_dev_command import CLI, clean_env, start

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def clubhouse(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True,
        timeout=150, check=False,
    )  # fmt: skip


def create_a1(cwd: Path) -> subprocess.CompletedProcess[str]:
    return clubhouse(cwd, "send", "create-agent", "--agent-id", "a1", "--timeout", "90")


def events_of_a1(cwd: Path) -> list[dict[str, object]]:
    """Every event about agent a1 the events topic holds, oldest first."""
    shown = clubhouse(cwd, "events", "--from-beginning", "--json", "--idle-timeout", "5")
    assert shown.returncode == 0, shown.stderr
    found = [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]
    return [event for event in found if event.get("agent_id") == "a1"]


def one_run(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], list]:
    """Start dev, create agent a1, read a1's events, stop dev with Ctrl-C."""
    proc, out = start(command, cwd)
    try:
        created = create_a1(cwd)
        events = events_of_a1(cwd)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(120)
    assert code == 0, out.read_text()[-3000:]
    return created, events


def test_a_second_run_begins_with_empty_state_responses_and_events(tmp_path: Path) -> None:
    first, first_events = one_run([*CLI, "dev"], tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(first_events) == 1, first_events
    assert list((tmp_path / ".clubhouse" / "state").iterdir())  # state was written
    second, second_events = one_run([*CLI, "dev"], tmp_path)
    # Nothing of a1 is left from the first run: neither its state nor its event.
    assert second.returncode == 0, second.stdout + second.stderr
    assert "AgentCreatedResponse" in second.stdout
    assert len(second_events) == 1, second_events


def test_keep_state_is_refused_on_tansu_which_keeps_nothing(tmp_path: Path) -> None:
    refused = clubhouse(tmp_path, "dev", "--keep-state")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "--keep-state needs --broker kafka" in refused.stderr
    assert not (tmp_path / ".clubhouse").exists()
    helped = clubhouse(tmp_path, "dev", "--help")
    assert "Tansu keeps its data in memory only" in " ".join(helped.stdout.split())


@pytest.mark.parametrize("broker_kind", ["kafka"], indirect=True)
def test_keep_state_on_kafka_keeps_state_and_events_together(
    broker_kind: str, tmp_path: Path
) -> None:
    command = [*CLI, "dev", "--broker", broker_kind, "--keep-state"]
    first, first_events = one_run(command, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(first_events) == 1, first_events
    second, second_events = one_run(command, tmp_path)
    assert second.returncode == 1, second.stdout + second.stderr
    assert "already exists" in second.stdout + second.stderr  # the state came back
    assert second_events == first_events  # and so did the events, and nothing new
