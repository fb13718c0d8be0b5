"""The restart policy: soon after a death that follows a good run, backing off after quick
failures, and giving up after too many in a row."""

from __future__ import annotations

import pytest

from clubhouse.devstack.restarts import RestartPolicy, RestartTracker

POLICY = RestartPolicy(first_delay_s=1.0, max_delay_s=3.0, settle_s=10.0, max_quick_failures=4)


def test_a_death_after_a_good_run_restarts_after_the_first_delay() -> None:
    tracker = RestartTracker(POLICY, started_at=0.0)
    verdict = tracker.died(now=100.0)
    assert (verdict.delay_s, verdict.quick_failures, verdict.give_up) == (1.0, 0, False)


def test_quick_failures_back_off_up_to_the_limit_then_give_up() -> None:
    tracker = RestartTracker(POLICY, started_at=0.0)
    delays = []
    now = 1.0
    for _ in range(4):
        verdict = tracker.died(now)
        delays.append(verdict.delay_s)
        now += 2.0
        tracker.restarted(now)
        tracker.became_ready()
    assert delays == [1.0, 2.0, 3.0, None]  # doubled, capped at max_delay_s, then given up


def test_dying_before_ready_is_quick_however_long_it_took() -> None:
    tracker = RestartTracker(POLICY, started_at=0.0)
    tracker.restarted(now=0.0)
    assert tracker.died(now=500.0).quick_failures == 1


def test_a_good_run_forgives_earlier_quick_failures() -> None:
    tracker = RestartTracker(POLICY, started_at=0.0)
    tracker.died(now=1.0)
    tracker.restarted(now=2.0)
    tracker.became_ready()
    verdict = tracker.died(now=200.0)
    assert (verdict.delay_s, verdict.quick_failures) == (1.0, 0)


def test_an_unusable_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="restart policy"):
        RestartPolicy(max_quick_failures=0)
