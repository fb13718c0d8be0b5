"""``--app module:attr`` naming something that is not an App: one line naming it, exit 2."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from clubhouse.cli.main import cli
from clubhouse.cli.options import load_app_option

BANK = """
from clubhouse import App, Command


class DepositCommand(Command):
    message_type: str = "command.deposit"
    amount: int


def helper():
    return "not an app"


def make_app():
    return App(prefix="bank")


def needs_arguments(prefix):
    return App(prefix=prefix)


limit = 3
app = App(prefix="bank")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the working directory holding ``bank.py``, not yet imported."""
    (tmp_path / "bank.py").write_text(BANK)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd())])
    monkeypatch.delitem(sys.modules, "bank", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("attr", "expected"),
    [
        ("DepositCommand", "--app bank:DepositCommand is a class DepositCommand, not a "
                           "clubhouse.App"),
        ("helper", "--app bank:helper is a function helper that returned a str, not a "
                   "clubhouse.App"),
        ("needs_arguments", "--app bank:needs_arguments is a function needs_arguments that "
                            "takes arguments; an App factory takes none"),
        ("limit", "--app bank:limit is an int, not a clubhouse.App"),
    ],
    ids=["class", "function", "function-with-arguments", "int"],
)  # fmt: skip
def test_what_is_not_an_app_is_a_usage_error_naming_it(
    project: Path, attr: str, expected: str
) -> None:
    with pytest.raises(click.UsageError) as caught:
        load_app_option(f"bank:{attr}")
    assert caught.value.message.startswith(expected), caught.value.message


@pytest.mark.parametrize("attr", ["app", "make_app"])
def test_an_app_or_a_factory_of_one_loads(project: Path, attr: str) -> None:
    app = load_app_option(f"bank:{attr}")
    assert app is not None and app.prefix == "bank"


def test_a_class_on_the_command_line_exits_2_with_one_line(project: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = CliRunner().invoke(
        cli, ["register", "--dry-run", "--app", "bank:DepositCommand", "--url", dead]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "ValidationError" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [
        "Error: --app bank:DepositCommand is a class DepositCommand, not a clubhouse.App "
        "(create one with `app = App(prefix=...)`)"
    ], result.output
