"""The supervisor with real child processes: a restartable member is restarted with the same
command line, an essential one stops the stack, one that keeps failing is given up on.

The test drives ``tick`` itself, with its own clock, so nothing depends on timing."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clubhouse.devstack.process import ManagedProcess, ProcessSpec
from clubhouse.devstack.restarts import RestartPolicy
from clubhouse.devstack.supervisor import Member, Supervisor

POLICY = RestartPolicy(first_delay_s=1.0, max_delay_s=4.0, settle_s=10.0, max_quick_failures=3)
SLEEPER = "import time; time.sleep(60)"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stop() -> threading.Event:
    return threading.Event()


@pytest.fixture
def supervisor(stop: threading.Event, clock: Clock) -> Iterator[Supervisor]:
    # The thread never ticks on its own here: the test calls tick().
    with Supervisor(stop, POLICY, interval_s=3600, clock=clock) as watching:
        yield watching


def child(tmp_path: Path, name: str, code: str) -> ManagedProcess:
    spec = ProcessSpec(name, (sys.executable, "-c", code), tmp_path / "logs" / f"{name}.log")
    process = ManagedProcess(spec)
    process.start()
    return process


def wait_exited(process: ManagedProcess) -> None:
    while process.exit_status() is None:
        time.sleep(0.01)


def test_a_killed_restartable_member_is_logged_once_and_restarted(
    tmp_path: Path, supervisor: Supervisor, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    process = child(tmp_path, "instance-2", SLEEPER)
    supervisor.watch([Member(process, restartable=True, ready=lambda: True)])
    first = process.pid
    try:
        os.kill(first, signal.SIGKILL)
        wait_exited(process)
        clock.now = 100.0
        with caplog.at_level(logging.INFO, logger="clubhouse.devstack"):
            supervisor.tick()
            assert process.exit_status() is not None  # not before its delay
            clock.now = 101.0
            supervisor.tick()
            supervisor.tick()
        assert process.is_running() and process.pid != first
        assert list(process.spec.argv) == [sys.executable, "-c", SLEEPER]
        died = [r for r in caplog.records if r.getMessage() == "died; restarting"]
        assert len(died) == 1
        fields = vars(died[0])
        assert (fields["component"], fields["pid"]) == ("instance-2", first)
        assert fields["signal"] == "SIGKILL"
        assert fields["log"] == str(tmp_path / "logs" / "instance-2.log")
        assert [r.getMessage() for r in caplog.records][-1] == "ready again"
        assert supervisor.failure is None
    finally:
        supervisor.halt()
        process.stop(grace=1)


def test_an_essential_member_dying_stops_the_stack(
    tmp_path: Path, supervisor: Supervisor, stop: threading.Event
) -> None:
    process = child(tmp_path, "schema registry", "import sys; sys.exit(3)")
    wait_exited(process)
    supervisor.watch([Member(process, restartable=False, ready=lambda: True)])
    supervisor.tick()
    assert stop.is_set()
    assert supervisor.failure is not None
    assert f"the schema registry (pid {process.pid}) exited with code 3" in supervisor.failure
    assert "\n" not in supervisor.failure


def test_a_member_that_keeps_dying_is_given_up_on(
    tmp_path: Path, supervisor: Supervisor, clock: Clock, stop: threading.Event
) -> None:
    process = child(tmp_path, "instance-3", "import sys; sys.exit(3)")
    supervisor.watch([Member(process, restartable=True, ready=lambda: False)])
    restarts = 0
    while not stop.is_set():
        wait_exited(process)
        supervisor.tick()  # the death
        clock.now += POLICY.max_delay_s
        pid = process.pid
        supervisor.tick()  # the restart, unless given up
        restarts += process.pid != pid
    assert restarts == POLICY.max_quick_failures - 1
    assert supervisor.failure is not None
    assert "instance-3 keeps failing: it died 3 times in a row" in supervisor.failure
    assert not process.is_running()


def test_once_the_stack_is_stopping_a_death_is_neither_restarted_nor_a_failure(
    tmp_path: Path, supervisor: Supervisor, clock: Clock, stop: threading.Event
) -> None:
    process = child(tmp_path, "instance-2", SLEEPER)
    supervisor.watch([Member(process, restartable=True, ready=lambda: True)])
    stop.set()  # Ctrl-C: the children are being stopped
    process.stop(grace=1)
    for _ in range(3):
        clock.now += POLICY.max_delay_s
        supervisor.tick()
    assert not process.is_running()
    assert supervisor.failure is None


def test_a_supervisor_that_breaks_stops_the_stack_rather_than_watch_no_more(
    tmp_path: Path, stop: threading.Event
) -> None:
    def broken_probe() -> bool:
        raise RuntimeError("probe bug")

    process = child(tmp_path, "instance-2", SLEEPER)
    fast = RestartPolicy(first_delay_s=0.01, settle_s=0.0)
    with Supervisor(stop, fast, interval_s=0.01) as watching:
        watching.watch([Member(process, restartable=True, ready=broken_probe)])
        try:
            os.kill(process.pid, signal.SIGKILL)  # restarted, then its readiness is asked
            assert stop.wait(60)
        finally:
            watching.halt()
            process.stop(grace=1)
    assert watching.failure == "the dev-stack supervisor failed: probe bug"


def test_a_reload_restarts_the_members_asked_for_and_counts_no_death(
    tmp_path: Path, supervisor: Supervisor, clock: Clock
) -> None:
    reloaded = child(tmp_path, "instance-1", SLEEPER)
    kept = child(tmp_path, "instance-2", SLEEPER)
    essential = child(tmp_path, "broker", SLEEPER)
    supervisor.watch([Member(reloaded, restartable=True, ready=lambda: True),
                      Member(kept, restartable=True, ready=lambda: True),
                      Member(essential, restartable=False, ready=lambda: True)])  # fmt: skip
    before = (reloaded.pid, kept.pid, essential.pid)
    try:
        for _ in range(POLICY.max_quick_failures + 1):  # more than a failing member is given
            supervisor.reload([reloaded, essential])  # an essential member is never reloaded
            supervisor.tick()
        assert reloaded.is_running() and reloaded.pid != before[0]
        assert (kept.pid, essential.pid) == before[1:]
        assert supervisor.failure is None and not supervisor_stopped(supervisor)
    finally:
        for process in (reloaded, kept, essential):
            process.stop()


def supervisor_stopped(supervisor: Supervisor) -> bool:
    return bool(supervisor._stop.is_set())


def test_a_second_reload_waits_until_the_first_restart_is_ready(
    tmp_path: Path, supervisor: Supervisor, clock: Clock
) -> None:
    ready = threading.Event()
    ready.set()
    process = child(tmp_path, "instance-1", SLEEPER)
    supervisor.watch([Member(process, restartable=True, ready=ready.is_set)])
    try:
        supervisor.reload([process])
        supervisor.tick()
        first_restart = process.pid
        ready.clear()  # still joining its group
        supervisor.reload([process])
        supervisor.tick()
        supervisor.tick()
        assert process.pid == first_restart  # not stopped in the middle of its start
        ready.set()
        supervisor.tick()
        assert process.is_running() and process.pid != first_restart
    finally:
        process.stop()
