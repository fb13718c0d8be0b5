"""A user's app, in a folder of its own, through every tool: none of the bundled agents app's
models may appear anywhere."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.dev.test_dev_command import CLI, clean_env, start

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BANK = '''
from clubhouse import App, Command, Context, Event, Response


class DepositCommand(Command):
    """Put money into an account."""

    message_type: str = "command.deposit"
    account_id: str
    amount: int


class Deposited(Response):
    message_type: str = "response.deposited"
    balance: int


class BalanceChanged(Event):
    message_type: str = "event.balance_changed"
    account_id: str
    balance: int


app = App(prefix="bank")


@app.command(DepositCommand, key="account_id", emits=[BalanceChanged])
def deposit(cmd: DepositCommand, ctx: Context) -> Deposited:
    ctx.state["balance"] = ctx.state.get("balance", 0) + cmd.amount
    ctx.emit(BalanceChanged(account_id=cmd.account_id, balance=ctx.state["balance"]))
    return Deposited(balance=ctx.state["balance"])
'''

AGENT_NAMES = ("CreateAgentCommand", "AgentCreatedResponse", "AgentStateChangedEvent",
               "ProcessMessageCommand", "Keyed by agent")  # fmt: skip


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=folder, env=clean_env(), capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def _no_agents(text: str) -> None:
    found = [name for name in AGENT_NAMES if name in text]
    assert not found, f"the agents app leaked in: {found}\n{text[-2000:]}"


def test_a_users_app_goes_through_every_tool_without_the_agents(tmp_path: Path) -> None:
    (tmp_path / "bank.py").write_text(BANK)
    proc, _ = start([*CLI, "dev", "--app", "bank:app", "--reload"], tmp_path,
                    ready_text="Reloading when a Python file")  # fmt: skip
    try:
        sent = _run(tmp_path, "send", "DepositCommand", "--app", "bank:app", "--json",
                    "--data", '{"account_id": "acc-1", "amount": 5}', "--timeout", "60")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["balance"] == 5

        events = _run(tmp_path, "events", "--app", "bank:app", "--from-beginning", "--json")
        assert events.returncode == 0, events.stderr
        assert '"balance_changed"' in events.stdout or "BalanceChanged" in events.stdout
        _no_agents(events.stdout + events.stderr)

        registered = _run(tmp_path, "register", "--app", "bank:app", "--dry-run", "--json")
        assert registered.returncode == 0, registered.stderr
        subjects = [r["subject"] for r in json.loads(registered.stdout)["results"]]
        assert "bank-DepositCommand-value" in subjects
        _no_agents(registered.stdout)

        checked = _run(tmp_path, "schemas", "check", "--app", "bank:app", "--json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        _no_agents(checked.stdout)

        exported = _run(tmp_path, "schemas", "export", "--app", "bank:app", "--out", "schemas")
        assert exported.returncode == 0, exported.stderr
        files = sorted(p.name for p in (tmp_path / "schemas").glob("*.avsc"))
        assert "bank-DepositCommand-value.avsc" in files
        _no_agents(" ".join(files))

        built = _run(tmp_path, "docs", "build", "--app", "bank:app", "--out", "site")
        assert built.returncode == 0, built.stderr
        page = (tmp_path / "site" / "index.html").read_text()
        assert "DepositCommand" in page and "account_id" in page
        _no_agents(page + (tmp_path / "site" / "asyncapi.yaml").read_text())

        message = {"message_id": "6f1c1a47-3c56-4c35-9d7e-0c0f0d3f8a11",
                   "timestamp": "2026-12-06T03:00:00Z", "message_type": "command.deposit",
                   "account_id": "acc-2", "amount": 1}  # fmt: skip
        (tmp_path / "deposit.json").write_text(json.dumps(message))
        valid = _run(tmp_path, "validate", "--app", "bank:app", "--model", "DepositCommand",
                     "--file", "deposit.json", "--json")
        assert valid.returncode == 0, valid.stdout + valid.stderr
        _no_agents(valid.stdout)

        # --reload: the edited handler serves the next commands, on the state kept so far.
        bank = tmp_path / "bank.py"
        bank.write_text(bank.read_text().replace(
            'return Deposited(balance=ctx.state["balance"])',
            'return Deposited(balance=ctx.state["balance"] * 1000)'))  # fmt: skip
        deadline = time.monotonic() + 90
        while True:
            again = _run(tmp_path, "send", "DepositCommand", "--app", "bank:app", "--json",
                         "--data", '{"account_id": "acc-1", "amount": 1}', "--timeout", "10")
            if again.returncode == 0 and json.loads(again.stdout)["balance"] >= 1000:
                break
            assert time.monotonic() < deadline, f"never reloaded: {again.stdout}{again.stderr}"
        # The state was kept: 5 before, and at least this deposit's 1.
        assert json.loads(again.stdout)["balance"] >= 6 * 1000

        # The bundled app's shortcut against this stack says which app it serves instead.
        stray = _run(tmp_path, "send", "create-agent", "--agent-id", "a1")
        assert stray.returncode == 2
        assert "serves --app bank:app" in stray.stderr, stray.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
