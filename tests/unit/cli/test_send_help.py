"""``clubhouse send MODEL --help`` lists the model's fields, from the user's app."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clubhouse.cli.main import cli

BANK = """
from clubhouse import App, Command, Context


class DepositCommand(Command):
    message_type: str = "command.deposit"
    account_id: str
    amount: int
    note: str | None = None


app = App(prefix="bank")


@app.command(DepositCommand, key="account_id")
def deposit(cmd: DepositCommand, ctx: Context) -> None:
    ctx.state["balance"] = ctx.state.get("balance", 0) + cmd.amount
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "bank_help.py").write_text(BANK)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd())])
    monkeypatch.delitem(sys.modules, "bank_help", raising=False)
    return tmp_path


def _help(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, ["send", "DepositCommand", *args, "--help"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_help_lists_each_field_with_its_type_and_default(project: Path) -> None:
    text = _help("--app", "bank_help:app")
    fields = text.split("Fields of DepositCommand (for --data):")[1]
    lines = [" ".join(line.split()) for line in fields.strip().splitlines()]
    assert lines == ["account_id str, required", "amount int, required",
                     "note str | None, default None"]  # fmt: skip
    assert "orders_app" not in text


def test_the_app_can_come_from_the_environment(project: Path) -> None:
    assert "amount int, required" in " ".join(
        _help(env={"CLUBHOUSE_APP": "bank_help:app"}).split()
    )


def test_without_the_app_the_help_says_how_to_name_it(project: Path) -> None:
    text = _help()
    assert "Fields of" not in text
    assert "--app MODULE:ATTR" in text
