"""`clubhouse dev` (and `run_clubhouse.py` with no flags) as a newcomer would use it."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-m", "clubhouse.cli.main"]


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL")}  # fmt: skip
    return env | {"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}


def start(
    command: list[str], cwd: Path, ready_text: str = "Serving commands"
) -> tuple[subprocess.Popen[str], Path]:
    out = cwd / "dev.out"
    proc = subprocess.Popen(
        command, cwd=cwd, env=clean_env(), text=True,
        stdout=out.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while ready_text not in out.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the dev stack did not come up:\n{out.read_text()[-3000:]}")
        time.sleep(0.2)
    return proc, out


def children(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    kids = psutil.Process(proc.pid).children(recursive=True)
    assert len(kids) >= 2, [k.cmdline() for k in kids]  # the broker and the registry
    return kids


def assert_gone(kids: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(kids, timeout=20)
    assert not alive, [p.cmdline() for p in alive]


def test_clubhouse_dev_start_send_and_ctrl_c_leave_nothing_behind(
    broker_kind: str, tmp_path: Path
) -> None:
    banner = "Kafka broker (Tansu)" if broker_kind == "tansu" else "Apache Kafka"
    _start_send_and_ctrl_c([*CLI, "dev", "--broker", broker_kind], tmp_path, banner)


def test_run_clubhouse_py_with_no_flags_runs_the_tansu_dev_stack(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "scripts" / "run_clubhouse.py")]
    _start_send_and_ctrl_c(command, tmp_path, "Kafka broker (Tansu)")


def _start_send_and_ctrl_c(command: list[str], tmp_path: Path, banner: str) -> None:
    proc, out = start(command, tmp_path)
    kids = children(proc)
    printed = out.read_text()
    assert banner in printed
    # The hint is a command that runs from where the user is: no virtualenv to activate in
    # this folder, so clubhouse as this one was run.
    hint = next(line.strip() for line in printed.splitlines()
                if "send create-agent --agent-id a1" in line)  # fmt: skip
    assert "source .venv/bin/activate" not in printed
    assert (tmp_path / ".clubhouse" / "dev.env").exists()
    try:
        sent = subprocess.run(
            [*shlex.split(hint), "--timeout", "60"],
            cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        assert "AgentCreatedResponse" in sent.stdout
        asked = subprocess.run(
            [*CLI, "send", "process-message", "--agent-id", "a1", "--content", "hello", "--json"],
            cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert '"content": "Hello! How can I help you today?"' in asked.stdout, asked.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    assert code == 0, out.read_text()[-3000:]
    assert_gone(kids)
    assert not (tmp_path / ".clubhouse" / "dev.env").exists()


def test_killing_the_dev_process_kills_its_children(broker_kind: str, tmp_path: Path) -> None:
    proc, _ = start([*CLI, "dev", "--broker", broker_kind], tmp_path)
    kids = children(proc)
    proc.kill()
    proc.wait(30)
    assert_gone(kids)


def test_no_service_and_print_env(broker_kind: str, tmp_path: Path) -> None:
    out = tmp_path / "stack.out"
    proc = subprocess.Popen(
        [*CLI, "dev", "--no-service", "--broker", broker_kind],
        cwd=tmp_path, env=clean_env(), text=True,
        stdout=out.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "Press Ctrl-C to stop." not in out.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.2)
        printed = subprocess.run(
            [*CLI, "dev", "--print-env"], cwd=tmp_path, env=clean_env(),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert printed.returncode == 0
        lines = printed.stdout.splitlines()
        assert [line.split("=")[0] for line in lines] == [
            "export KAFKA_BOOTSTRAP_SERVERS", "export SCHEMA_REGISTRY_URL",
        ]  # fmt: skip
        assert lines[0].split("=")[1] in out.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0


def test_dev_serves_an_app_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "orders_app.py").write_text(
        (ROOT / "examples" / "orders" / "orders_app.py").read_text()
    )
    proc, out = start([*CLI, "dev", "--app", "orders_app:app"], tmp_path)
    try:
        banner = out.read_text()
        # The app's own commands, with example data, and no virtualenv that is not there.
        assert ("send PlaceOrderCommand --app orders_app:app --data "
                '\'{"order_id": "order-1", "item": "x"}\'') in banner  # fmt: skip
        assert "source .venv/bin/activate" not in banner
        sent = subprocess.run(
            [*CLI, "send", "PlaceOrderCommand", "--app", "orders_app:app", "--json",
             "--data", '{"order_id": "d1", "item": "tea"}', "--timeout", "30"],
            cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=90,
            check=False,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        assert '"total_items": 1' in sent.stdout
        assert "Using the dev stack running from" in sent.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0


def test_dev_with_two_instances_answers_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    proc, out = start([*CLI, "dev", "--instances", "2"], tmp_path)
    kids = children(proc)
    try:
        printed = out.read_text()
        assert "Service instance-2" in printed, printed
        second = [k for k in kids if "run" in k.cmdline() and "--state-dir" in k.cmdline()]
        assert len(second) == 1, [k.cmdline() for k in kids]
        state_dir = second[0].cmdline()[second[0].cmdline().index("--state-dir") + 1]
        assert Path(state_dir) == Path(".clubhouse/state/instance-2"), state_dir
        sent = subprocess.run(
            [*CLI, "send", "create-agent", "--agent-id", "a1", "--timeout", "60"],
            cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        assert "AgentCreatedResponse" in sent.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    assert code == 0, out.read_text()[-3000:]
    assert_gone(kids)
