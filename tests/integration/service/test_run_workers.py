"""``clubhouse run --workers 2``: two service processes of one group under one supervisor;
a worker killed -9 is restarted and every key is still counted exactly; SIGTERM stops all."""

from __future__ import annotations

import signal
import time

import psutil
import pytest

from tests.integration.service.conftest import Env, stop_process, wait_for_schemas
from tests.integration.service.test_misbehaving_app import _client, _count

pytestmark = pytest.mark.integration


def _last(args: list[str], flag: str) -> str | None:
    """The value of the last ``flag`` in ``args`` (the one click uses)."""
    found = [args[i + 1] for i, a in enumerate(args[:-1]) if a == flag]
    return found[-1] if found else None


def _workers(parent: psutil.Process) -> list[psutil.Process]:
    return [p for p in parent.children(recursive=True)
            if _last(p.cmdline(), "--workers") == "1"]  # fmt: skip


def test_two_workers_share_the_work_and_a_killed_one_is_restarted(env: Env) -> None:
    proc = env.service_process("--app", "tests.apps.misbehaving:app", "--workers", "2")
    parent = psutil.Process(proc.pid)
    try:
        wait_for_schemas(env, proc)
        deadline = time.monotonic() + 90
        log = env.state_dir.parent / "service.log"
        while "2 workers in one consumer group" not in log.read_text():  # both ready
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the workers were never both ready"
            time.sleep(0.2)
        ids = sorted(str(_last(p.cmdline(), "--instance-id")) for p in _workers(parent))
        assert [i.rsplit("-", 1)[1] for i in ids] == ["w0", "w1"]
        keys = [f"w{i}" for i in range(6)]
        with _client(env) as client:
            assert [_count(client, k) for k in keys] == [1] * 6
            victim = _workers(parent)[0]
            victim.kill()
            victim.wait(30)
            while len([w for w in _workers(parent) if w.pid != victim.pid]) < 2:
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline + 60, "the killed worker was not restarted"
                time.sleep(0.2)
            assert [_count(client, k) for k in keys] == [2] * 6  # nothing lost or doubled
        children = parent.children(recursive=True)
    finally:
        code = stop_process(proc, signal.SIGTERM)
    assert code == 0
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, alive
