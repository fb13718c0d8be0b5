"""Throttle failed logins per (client address, user), so a password flood costs almost nothing.

After ``max_failures`` failed attempts at one user's name from one address within
``window_s`` seconds, further attempts at that name from that address are refused without
running scrypt until the oldest failure leaves the window. Failures are counted per user as
well as per address because many honest clients can share one address (a proxy, a NAT): a
flood against one name must not lock every other user behind that address out. The table is
bounded: past ``max_keys`` the (address, user) pair seen least recently is forgotten.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

DEFAULT_MAX_FAILURES = 10
DEFAULT_WINDOW_S = 60.0
DEFAULT_MAX_KEYS = 10_000

LoginKey = tuple[str, str]
"""(client address, user name as presented)."""


class LoginThrottle:
    """Counts failures per key in a sliding window; ``retry_after`` says when to come back."""

    def __init__(
        self,
        *,
        max_failures: int = DEFAULT_MAX_FAILURES,
        window_s: float = DEFAULT_WINDOW_S,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_failures = max_failures
        self._window = window_s
        self._max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[LoginKey, deque[float]] = OrderedDict()

    def _recent(self, key: LoginKey) -> deque[float] | None:
        stamps = self._failures.get(key)
        if stamps is None:
            return None
        cutoff = self._clock() - self._window
        while stamps and stamps[0] <= cutoff:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
            return None
        return stamps

    def retry_after(self, key: LoginKey) -> float:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        stamps = self._recent(key)
        if stamps is None or len(stamps) < self._max_failures:
            return 0.0
        return max(stamps[0] + self._window - self._clock(), 0.0)

    def failed(self, key: LoginKey) -> None:
        """Record a failed login for ``key``, forgetting the oldest key when full."""
        stamps = self._recent(key)
        if stamps is None:
            stamps = self._failures[key] = deque(maxlen=self._max_failures)
            if len(self._failures) > self._max_keys:
                self._failures.popitem(last=False)
        self._failures.move_to_end(key)
        stamps.append(self._clock())

    def succeeded(self, key: LoginKey) -> None:
        """Take back the failure counted for this attempt before it was checked.

        Only that one: the other failures in the window may be someone else's guesses at the
        same name from the same address, and a success must not grant them a fresh budget.
        """
        stamps = self._recent(key)
        if stamps:
            stamps.pop()
            if not stamps:
                del self._failures[key]
