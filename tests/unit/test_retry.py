"""The one retry policy: doubling delays up to a cap, a deadline, and a stop that ends any wait."""

from __future__ import annotations

import threading

import pytest

from clubhouse.retry import RetryPolicy


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_delays_double_up_to_the_cap_and_start_again_after_a_success() -> None:
    t = FakeTime()
    backoff = RetryPolicy(first_s=0.2, max_s=1.0).backoff(clock=t.clock, sleep=t.sleep)
    assert all(backoff.wait() for _ in range(5))
    assert t.slept == [0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    backoff.wait()
    assert t.slept[-1] == 0.2


def test_no_wait_runs_past_the_deadline() -> None:
    t = FakeTime()
    backoff = RetryPolicy(first_s=1.0, max_s=4.0, deadline_s=2.5).backoff(
        clock=t.clock, sleep=t.sleep
    )
    results = [backoff.wait() for _ in range(4)]
    assert results == [True, True, False, False]
    assert t.slept == [1.0, 1.5] and t.now == 2.5


def test_a_stop_ends_the_wait_at_once_and_the_retries() -> None:
    stop = threading.Event()
    backoff = RetryPolicy(first_s=60, max_s=60).backoff(stop)
    threading.Timer(0.05, stop.set).start()
    assert backoff.wait() is False  # returned on the stop, not after 60 s
    assert backoff.wait() is False


def test_the_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="first_s"):
        RetryPolicy(first_s=0)
    with pytest.raises(ValueError, match="factor"):
        RetryPolicy(factor=0.5)
