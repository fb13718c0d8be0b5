"""No dev-stack child outlives its parent: not after SIGKILL, not after SIGINT or SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


def _parent(mode: str, data_dir: Path, broker: str) -> subprocess.Popen[str]:
    module = "tests.integration.devstack.stack_parent"
    return subprocess.Popen(
        [sys.executable, "-m", module, mode, str(data_dir), broker],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )


def _assert_all_gone(pids: list[int]) -> None:
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(procs, timeout=10)
    assert not alive, f"children still running: {[(p.pid, p.name()) for p in alive]}"


def test_children_die_when_the_parent_is_sigkilled(broker_kind: str, tmp_path: Path) -> None:
    parent = _parent("hold", tmp_path, broker_kind)
    try:
        assert parent.stdout is not None
        pids = json.loads(parent.stdout.readline())["pids"]
        assert len(pids) == 2
        for pid in pids:
            child = psutil.Process(pid)
            assert child.ppid() == parent.pid
            # Each child leads its own process group, apart from the parent's.
            assert os.getpgid(pid) == pid != os.getpgid(parent.pid)
        parent.kill()
        parent.wait(10)
        _assert_all_gone(pids)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_dev_no_service_stops_everything_on_a_signal(
    broker_kind: str, tmp_path: Path, sig: signal.Signals
) -> None:
    parent = _parent("run", tmp_path, broker_kind)
    try:
        assert parent.stdout is not None
        lines: list[str] = []
        while not any("Press Ctrl-C" in line for line in lines):
            line = parent.stdout.readline()
            assert line, "clubhouse dev exited before it was up"
            lines.append(line.strip())
        exports = [line for line in lines if line.startswith("export ")]
        assert exports[0].startswith("export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:"), lines
        assert exports[1].startswith("export SCHEMA_REGISTRY_URL=http://127.0.0.1:"), lines
        pids = [c.pid for c in psutil.Process(parent.pid).children(recursive=True)]
        assert len(pids) == 2
        parent.send_signal(sig)
        assert parent.wait(30) == 0
        _assert_all_gone(pids)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
