"""The one retry policy: exponential backoff with a cap, an optional deadline, and a stop
signal that cuts any wait short.

Every loop that retries takes a ``RetryPolicy`` and asks it for a ``Backoff`` per run of
attempts; ``wait()`` sleeps the next delay and says whether to try again. What counts as
worth retrying is the error policy's call (``services.error_policy``), not the loop's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delays of ``first_s``, times ``factor`` each attempt, at most ``max_s``; no attempt
    starts past ``deadline_s`` after the first one (None: until stopped)."""

    first_s: float = 0.2
    max_s: float = 5.0
    factor: float = 2.0
    deadline_s: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.first_s <= self.max_s:
            raise ValueError(f"need 0 < first_s <= max_s, not {self.first_s} and {self.max_s}")
        if self.factor < 1:
            raise ValueError(f"the backoff factor must be at least 1, not {self.factor}")

    def delay(self, attempt: int) -> float:
        """The wait before attempt ``attempt`` + 1 (0: the first retry): the backoff formula,
        written once."""
        return min(self.max_s, self.first_s * self.factor ** max(0, attempt))

    def backoff(
        self,
        stop: threading.Event | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> Backoff:
        """The waits of one run of attempts, starting now. ``sleep`` replaces waiting on the
        stop signal (a test's fake clock)."""
        return Backoff(self, stop, clock, sleep)


class Backoff:
    """The state of one run of attempts under a ``RetryPolicy``."""

    def __init__(
        self,
        policy: RetryPolicy,
        stop: threading.Event | None,
        clock: Callable[[], float],
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self._policy = policy
        # Waiting on an event, never time.sleep, so a stop ends any wait at once.
        self._stop = stop if stop is not None else threading.Event()
        self._sleep = sleep if sleep is not None else self._stop.wait
        self._clock = clock
        self._started = clock()
        self.attempts = 0

    @property
    def delay(self) -> float:
        """The delay the next ``wait`` will sleep (before the deadline cuts it)."""
        return self._policy.delay(self.attempts)

    def remaining(self) -> float | None:
        """Seconds left before the deadline; None without one."""
        if self._policy.deadline_s is None:
            return None
        return self._started + self._policy.deadline_s - self._clock()

    def wait(
        self,
        why: str = "",
        error: BaseException | None = None,
        *,
        log: logging.Logger | None = None,
    ) -> bool:
        """Sleep before the next attempt; False, without sleeping out the delay, when asked
        to stop or when the deadline has passed. ``why`` is logged (as a warning) if given."""
        if self._stop.is_set():
            return False
        delay = self.delay
        remaining = self.remaining()
        if remaining is not None:
            if remaining <= 0:
                return False
            delay = min(delay, remaining)
        self.attempts += 1
        if why and log is not None:
            extra: dict[str, object] = {"retry_in_s": round(delay, 2), "attempt": self.attempts}
            if error is not None:
                extra["error"] = str(error)
            log.warning(why, extra=extra)
        self._sleep(delay)
        return not self._stop.is_set()

    def reset(self) -> None:
        """An attempt succeeded: the next failure starts from the first delay again."""
        self.attempts = 0
        self._started = self._clock()


DEFAULT_RETRY = RetryPolicy()  # immutable: 0.2 s, doubling, at most 5 s, until stopped
