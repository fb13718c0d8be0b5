"""``clubhouse dev --app`` with an app that cannot be loaded starts nothing: the error comes
before any broker or registry process, and the data directory is not even created."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]

APPS = {
    "broken": ("x = 1\n\ndef f(:\n", "invalid syntax at {cwd}/broken.py:3"),
    "bank": (
        "from clubhouse import App, Command\n\n\n"
        "class DepositCommand(Command):\n"
        '    message_type: str = "command.deposit"\n'
        "    amount: int\n",
        "--app bank:DepositCommand is a class DepositCommand, not a clubhouse.App",
    ),
}


@pytest.mark.parametrize(
    ("module", "reference"), [("broken", "broken:app"), ("bank", "bank:DepositCommand")]
)
def test_an_app_that_cannot_load_fails_before_anything_starts(
    tmp_path: Path, module: str, reference: str
) -> None:
    source, expected = APPS[module]
    (tmp_path / f"{module}.py").write_text(source)
    env = {k: v for k, v in os.environ.items()
           if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "clubhouse.cli.main", "dev", "--app", reference],
        cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and expected.format(cwd=tmp_path) in errors[0], output
    assert "started component" not in output and "dev stack ready" not in output, output
    assert not (tmp_path / ".clubhouse").exists(), sorted((tmp_path / ".clubhouse").rglob("*"))
