"""When to restart a dev-stack member that died, and when to give up on it.

A member that ran a while and then died (a ``kill -9`` while trying a failover, a crash
under load) is restarted soon. One that dies again before it is ready, or within
``settle_s`` of its start, failed quickly; each quick failure doubles the wait before the
next start, and after ``max_quick_failures`` in a row the member is given up: it would only
keep failing, and the user is better told at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from clubhouse.retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """How soon to restart a dead member, and how many quick failures to tolerate."""

    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    settle_s: float = 10.0
    max_quick_failures: int = 3

    def __post_init__(self) -> None:
        if self.max_quick_failures < 1 or self.first_delay_s <= 0 or self.settle_s < 0:
            raise ValueError(f"not a usable restart policy: {self}")

    @property
    def delays(self) -> RetryPolicy:
        """The waits before restarts: the one retry policy's backoff, doubling to the cap."""
        return RetryPolicy(first_s=self.first_delay_s, max_s=self.max_delay_s)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do about one death: restart after ``delay_s``, or give up (``delay_s`` None)."""

    delay_s: float | None
    quick_failures: int

    @property
    def give_up(self) -> bool:
        """Whether the member is to be left dead (and the stack stopped)."""
        return self.delay_s is None


class RestartTracker:
    """The restart history of one member: when it last started, and its quick failures."""

    def __init__(self, policy: RestartPolicy, started_at: float) -> None:
        self.policy = policy
        self.started_at = started_at
        self.ready = True  # a member is watched once its first start has succeeded
        self.quick_failures = 0

    def died(self, now: float) -> Verdict:
        """Record a death at ``now``; the verdict says whether and when to start it again."""
        quick = not self.ready or now - self.started_at < self.policy.settle_s
        self.quick_failures = self.quick_failures + 1 if quick else 0
        if self.quick_failures >= self.policy.max_quick_failures:
            return Verdict(None, self.quick_failures)
        return Verdict(self.policy.delays.delay(self.quick_failures - 1), self.quick_failures)

    def restarted(self, now: float) -> None:
        """The member was started again at ``now``; it is not ready until ``became_ready``."""
        self.started_at = now
        self.ready = False

    def became_ready(self) -> None:
        """The restarted member answered its readiness probe."""
        self.ready = True
