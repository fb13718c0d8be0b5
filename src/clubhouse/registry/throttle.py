"""Throttle failed logins per client address, so a password flood costs almost nothing.

After ``max_failures`` failed attempts from one address within ``window_s`` seconds, further
attempts from that address are refused without running scrypt until the oldest failure
leaves the window. The table of addresses is bounded: past ``max_addresses`` the address
seen least recently is forgotten.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

DEFAULT_MAX_FAILURES = 10
DEFAULT_WINDOW_S = 60.0
DEFAULT_MAX_ADDRESSES = 10_000


class LoginThrottle:
    """Counts failures per address in a sliding window; ``retry_after`` says when to come back."""

    def __init__(
        self,
        *,
        max_failures: int = DEFAULT_MAX_FAILURES,
        window_s: float = DEFAULT_WINDOW_S,
        max_addresses: int = DEFAULT_MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_failures = max_failures
        self._window = window_s
        self._max_addresses = max_addresses
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, address: str) -> deque[float] | None:
        stamps = self._failures.get(address)
        if stamps is None:
            return None
        cutoff = self._clock() - self._window
        while stamps and stamps[0] <= cutoff:
            stamps.popleft()
        if not stamps:
            del self._failures[address]
            return None
        return stamps

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try again; 0 when it may try now."""
        stamps = self._recent(address)
        if stamps is None or len(stamps) < self._max_failures:
            return 0.0
        return max(stamps[0] + self._window - self._clock(), 0.0)

    def failed(self, address: str) -> None:
        """Record a failed login from ``address``, forgetting the oldest address when full."""
        stamps = self._recent(address)
        if stamps is None:
            stamps = self._failures[address] = deque(maxlen=self._max_failures)
            if len(self._failures) > self._max_addresses:
                self._failures.popitem(last=False)
        self._failures.move_to_end(address)
        stamps.append(self._clock())

    def succeeded(self, address: str) -> None:
        """Forget ``address``'s failed logins."""
        self._failures.pop(address, None)
