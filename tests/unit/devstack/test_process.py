"""ManagedProcess with small Python children standing in for the broker and the registry."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from clubhouse.devstack.errors import DevStackError, ProcessExitedError, ReadinessTimeoutError
from clubhouse.devstack.process import ManagedProcess, ProcessSpec


def _child(tmp_path: Path, code: str, **spec: object) -> ManagedProcess:
    argv = (sys.executable, "-c", textwrap.dedent(code))
    return ManagedProcess(ProcessSpec("test child", argv, tmp_path / "child.log", **spec))  # type: ignore[arg-type]


def test_early_exit_reports_code_and_last_output_lines(tmp_path: Path) -> None:
    proc = _child(
        tmp_path,
        """
        import sys
        for i in range(30):
            print(f"line {i}")
        print("\\x1b[31mfatal: cannot open storage\\x1b[0m", file=sys.stderr)
        sys.exit(3)
        """,
    )
    proc.start()
    with pytest.raises(ProcessExitedError) as info:
        proc.wait_ready(lambda: False, "never", timeout=20)
    err = info.value
    assert err.returncode == 3
    assert err.tail[-1] == "fatal: cannot open storage"  # colour codes stripped
    assert "line 0" not in err.tail  # only the last lines
    assert "test child exited with code 3" in str(err)
    assert "fatal: cannot open storage" in str(err)


def test_ready_when_the_probe_passes(tmp_path: Path) -> None:
    marker = tmp_path / "ready"
    proc = _child(
        tmp_path,
        f"""
        import pathlib, time
        pathlib.Path({str(marker)!r}).touch()
        time.sleep(60)
        """,
    )
    proc.start()
    try:
        proc.wait_ready(marker.exists, "marker file", timeout=20)
        assert proc.is_running()
    finally:
        assert proc.stop(grace=5) == -signal.SIGTERM


def test_readiness_timeout_stops_the_child(tmp_path: Path) -> None:
    proc = _child(tmp_path, "import time; print('still starting', flush=True); time.sleep(60)")
    proc.start()
    pid = proc.pid
    with pytest.raises(ReadinessTimeoutError, match="marker file") as info:
        proc.wait_ready(lambda: False, "marker file", timeout=0.5)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert "still starting" in str(info.value)


def test_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    proc = _child(
        tmp_path,
        f"""
        import pathlib, subprocess, sys, time
        g = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        pathlib.Path({str(pid_file)!r}).write_text(str(g.pid))
        time.sleep(60)
        """,
    )
    proc.start()
    # Written, not only created: the probe can run between the two.
    proc.wait_ready(lambda: pid_file.exists() and pid_file.read_text().strip() != "",
                    "pid file", timeout=20)  # fmt: skip
    grandchild = psutil.Process(int(pid_file.read_text()))
    assert os.getpgid(grandchild.pid) == proc.pid
    proc.stop(grace=5)
    grandchild.wait(timeout=10)
    assert not grandchild.is_running()


def test_stop_escalates_to_sigkill_when_the_polite_signal_is_ignored(tmp_path: Path) -> None:
    proc = _child(
        tmp_path,
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring", flush=True)
        time.sleep(60)
        """,
    )
    proc.start()
    proc.wait_ready(lambda: "ignoring" in "".join(proc.output_tail()), "banner", timeout=20)
    assert proc.stop(grace=0.3) == -signal.SIGKILL


def test_custom_stop_signal_is_sent_first(tmp_path: Path) -> None:
    proc = _child(
        tmp_path,
        """
        import signal, sys, time
        signal.signal(signal.SIGINT, lambda *_: sys.exit(7))
        print("up", flush=True)
        time.sleep(60)
        """,
        stop_signal=signal.SIGINT,
    )
    proc.start()
    proc.wait_ready(lambda: "up" in proc.output_tail(), "banner", timeout=20)
    assert proc.stop(grace=5) == 7


def test_stop_is_idempotent_and_start_refuses_a_second_copy(tmp_path: Path) -> None:
    proc = _child(tmp_path, "import time; time.sleep(60)")
    proc.start()
    with pytest.raises(Exception, match="already running"):
        proc.start()
    first = proc.stop(grace=5)
    assert proc.stop(grace=5) == first
    assert not proc.is_running()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_child_is_set_to_die_with_its_parent(tmp_path: Path) -> None:
    proc = _child(
        tmp_path,
        """
        import ctypes
        sig = ctypes.c_int()
        ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG
        print(f"pdeathsig={sig.value}", flush=True)
        """,
    )
    proc.start()
    with pytest.raises(ProcessExitedError) as info:
        proc.wait_ready(lambda: False, "never", timeout=20)
    assert info.value.tail == (f"pdeathsig={int(signal.SIGKILL)}",)


def test_check_alive_reports_a_dead_child_without_reaping_it(tmp_path: Path) -> None:
    proc = _child(
        tmp_path, "import sys, time; print('up', flush=True); time.sleep(0.2); sys.exit(4)"
    )
    proc.start()
    proc.wait_ready(lambda: "up" in proc.output_tail(), "banner", timeout=20)
    proc.check_alive()
    deadline = time.monotonic() + 20
    while proc.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(ProcessExitedError, match="exited with code 4") as info:
        proc.check_alive()
    assert "up" in info.value.tail
    # Still a zombie, so its pid (= its process group id) cannot have been reused yet.
    assert psutil.Process(proc.pid).status() == psutil.STATUS_ZOMBIE
    assert proc.stop() == 4


def test_a_child_killed_by_a_signal_reports_a_negative_code(tmp_path: Path) -> None:
    proc = _child(tmp_path, "import time; print('up', flush=True); time.sleep(60)")
    proc.start()
    proc.wait_ready(lambda: "up" in proc.output_tail(), "banner", timeout=20)
    os.kill(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while proc.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(ProcessExitedError, match="exited with code -9"):
        proc.check_alive()
    assert proc.stop() == -signal.SIGKILL


def test_restart_runs_the_same_command_again_and_appends_to_the_log(tmp_path: Path) -> None:
    code = "import os, time; print('run', os.getpid(), flush=True); time.sleep(60)"
    proc = _child(tmp_path, code)
    proc.start()
    first = proc.pid
    try:
        proc.wait_ready(lambda: "run" in proc.spec.log_path.read_text(), "first line", 20)
        os.kill(first, signal.SIGKILL)
        while proc.exit_status() is None:  # not psutil's wait(), which would reap it
            time.sleep(0.01)
        assert proc.exit_status() == -signal.SIGKILL
        proc.restart()
        assert proc.pid != first
        proc.wait_ready(lambda: f"run {proc.pid}" in proc.spec.log_path.read_text(), "line", 20)
        assert f"run {first}" in proc.spec.log_path.read_text()  # what the dead one printed
    finally:
        proc.stop(grace=1)


def test_restart_of_a_running_child_is_refused(tmp_path: Path) -> None:
    proc = _child(tmp_path, "import time; time.sleep(60)")
    proc.start()
    try:
        with pytest.raises(DevStackError, match="still running"):
            proc.restart()
    finally:
        proc.stop(grace=1)
