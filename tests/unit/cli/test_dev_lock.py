"""The data-dir lock of ``clubhouse dev``: one stack per folder, stale files told apart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from clubhouse.cli.connection import find_dev_stack, write_dev_env
from clubhouse.cli.dev_lock import DataDirBusyError, DataDirLock, lock_holder

ENV = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "SCHEMA_REGISTRY_URL": "http://127.0.0.1:2"}


def test_second_lock_names_the_first_holder_and_its_urls(tmp_path: Path) -> None:
    with DataDirLock(tmp_path) as first:
        first.record(ENV)
        with pytest.raises(DataDirBusyError) as caught:
            DataDirLock(tmp_path).acquire()
    message = str(caught.value)
    assert f"pid {os.getpid()}" in message
    assert "http://127.0.0.1:2" in message and "127.0.0.1:1" in message
    assert caught.value.holder["pid"] == os.getpid()


def test_holder_is_seen_while_held_and_gone_after_release(tmp_path: Path) -> None:
    assert lock_holder(tmp_path) is None
    lock = DataDirLock(tmp_path).acquire()
    lock.record(ENV)
    assert lock_holder(tmp_path) == {"pid": os.getpid(), **ENV}
    lock.release()
    assert lock_holder(tmp_path) is None
    DataDirLock(tmp_path).acquire().release()  # free again


def test_a_killed_holder_leaves_a_stale_dev_env(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from clubhouse.cli.dev_lock import "
        "DataDirLock; held = DataDirLock(Path(sys.argv[1])).acquire(); print('held', flush=True); "
        "time.sleep(60)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    write_dev_env(tmp_path / "dev.env", ENV)
    found = find_dev_stack(tmp_path)
    assert found is not None and found.running
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    stale = find_dev_stack(tmp_path)
    assert stale is not None and not stale.running
    assert "no longer running" in stale.stale_hint and str(tmp_path / "dev.env") in stale.stale_hint


def test_no_dev_env_means_no_dev_stack(tmp_path: Path) -> None:
    assert find_dev_stack(tmp_path) is None
