"""The CLI's configuration rules, with no broker or registry running: what it refuses, and how.

Commands that might start a stack run in a subprocess with a timeout, so that a regression
(a stack started instead of an error) fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from clubhouse.cli.connection import write_dev_env
from clubhouse.cli.dev_lock import DataDirLock
from clubhouse.cli.main import cli

ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-m", "clubhouse.cli.main"]
CONNECTION_VARS = ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL")


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONNECTION_VARS}
    return env | {"PYTHONPATH": str(ROOT)}


def run_cli(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


@pytest.fixture
def dead_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A runner in an empty directory, with no connection variables set."""
    monkeypatch.chdir(tmp_path)
    for name in CONNECTION_VARS:
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_run_with_nothing_configured_refuses_and_names_clubhouse_dev(tmp_path: Path) -> None:
    done = run_cli("run", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "`clubhouse dev`" in done.stderr
    assert "--bootstrap-servers" in done.stderr and "SCHEMA_REGISTRY_URL" in done.stderr
    assert not (tmp_path / ".clubhouse" / "dev.env").exists()


def test_print_env_with_no_stack_exits_at_once(tmp_path: Path) -> None:
    done = run_cli("dev", "--print-env", "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
    assert done.returncode == 2
    assert "no dev stack is running" in done.stderr
    assert done.stdout == ""  # nothing for eval to run


def test_print_env_with_a_stale_dev_env_says_the_stack_is_gone(tmp_path: Path) -> None:
    write_dev_env(tmp_path / "dev.env", {"SCHEMA_REGISTRY_URL": "http://127.0.0.1:9"})
    done = run_cli("dev", "--print-env", "--data-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "no longer running" in done.stderr


def test_print_env_prints_the_running_stack(tmp_path: Path) -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "SCHEMA_REGISTRY_URL": "http://127.0.0.1:2"}
    with DataDirLock(tmp_path) as lock:
        lock.record(env)
        write_dev_env(tmp_path / "dev.env", env)
        done = run_cli("dev", "--print-env", "--data-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "export SCHEMA_REGISTRY_URL=http://127.0.0.1:2" in done.stdout


def test_second_dev_on_a_busy_data_dir_exits_2_and_keeps_the_first_ones_dev_env(
    tmp_path: Path,
) -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "SCHEMA_REGISTRY_URL": "http://127.0.0.1:2"}
    with DataDirLock(tmp_path) as lock:
        lock.record(env)
        write_dev_env(tmp_path / "dev.env", env)
        before = (tmp_path / "dev.env").read_text()
        done = run_cli("dev", "--data-dir", str(tmp_path), cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert f"pid {os.getpid()}" in done.stderr
        assert "http://127.0.0.1:2" in done.stderr
        assert (tmp_path / "dev.env").read_text() == before


@pytest.mark.parametrize(
    "command", [["register"], ["run", "--register-schemas-only"]], ids=["register", "run"]
)
def test_url_is_the_registry_for_register_and_register_schemas_only(
    runner: CliRunner, command: list[str], dead_port: int
) -> None:
    result = runner.invoke(cli, [*command, "--url", f"http://127.0.0.1:{dead_port}"])
    assert result.exit_code == 2
    assert "Missing option" not in result.output
    assert f"cannot reach the schema registry (--url): http://127.0.0.1:{dead_port}" in (
        result.output
    )


def test_stale_dev_env_says_the_stack_is_gone(runner: CliRunner, tmp_path: Path) -> None:
    write_dev_env(tmp_path / ".clubhouse" / "dev.env", {"SCHEMA_REGISTRY_URL": "http://x:1"})
    result = runner.invoke(cli, ["register"])
    assert result.exit_code == 2
    assert "no longer running" in result.output
    assert "Using the dev stack" not in result.output


def test_syntax_error_in_a_models_module_is_one_clean_line(
    runner: CliRunner, tmp_path: Path, dead_port: int
) -> None:
    (tmp_path / "broken_contracts_mod.py").write_text("x = 1\ndef oops(:\n")
    result = runner.invoke(
        cli, ["register", "--url", f"http://127.0.0.1:{dead_port}", "--models",
              "broken_contracts_mod"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "broken_contracts_mod.py:2" in result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("name", ["create-agent", "delete-agent", "process-message"])
def test_send_subcommands_show_examples(name: str) -> None:
    result = CliRunner().invoke(cli, ["send", name, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert f"clubhouse send {name} --agent-id" in result.output


def test_send_help_imports_neither_pydantic_nor_the_confluent_clients(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom clubhouse.cli.main import cli\n"
        "try:\n    cli(['send', 'create-agent', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'pydantic', 'confluent_kafka', 'httpx', 'fastavro'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=clean_env(), capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_dev_script_usage_and_unknown_command() -> None:
    usage = subprocess.run([str(ROOT / "dev")], capture_output=True, text=True, check=False)
    unknown = subprocess.run([str(ROOT / "dev"), "frobnicate"], capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert usage.returncode == 0
    assert "./dev test" in usage.stdout and "set -euo" not in usage.stdout
    assert unknown.returncode == 2
    assert "unknown command: frobnicate" in unknown.stderr


def _all_commands(group: click.Group, ctx: click.Context) -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append((name, command))
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", c) for sub, c in _all_commands(command, ctx)]
    return found


def test_no_command_makes_one_spelling_of_the_registry_url_required() -> None:
    # `--url` broke for `register` because click required --schema-registry-url itself.
    ctx = click.Context(cli)
    checked = []
    for name, command in _all_commands(cli, ctx):
        names = {p.name: p for p in command.params}
        if "url" in names and "schema_registry_url" in names:
            checked.append(name)
            assert not names["schema_registry_url"].required, name
            assert not names["url"].required, name
    assert {"register", "run", "send create-agent", "events", "schemas check"} <= set(checked)


def test_run_with_a_broker_and_no_registry_asks_for_the_registry(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["run", "--bootstrap-servers", "localhost:1"])
    assert result.exit_code == 2
    assert "no schema registry given (the broker is localhost:1, from --bootstrap-servers)" in (
        result.output
    )
