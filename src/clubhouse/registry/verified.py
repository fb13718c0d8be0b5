"""A short-lived memory of logins that passed scrypt, so a client's every request is not slow.

An entry is a keyed digest (HMAC-SHA256, with a key drawn at random for each cache) of the
user and the secret they presented; the plain password is never kept. Entries are forgotten
``ttl_s`` seconds after their last use, and past ``max_entries`` the one used least recently
goes. A hit lets the request in without scrypt and without asking the login throttle, so a
client already verified keeps working while others flood its address with wrong passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

DEFAULT_TTL_S = 60.0
DEFAULT_MAX_ENTRIES = 1024


class VerifiedLogins:
    """Bounded, expiring set of (user, secret digest) pairs that scrypt accepted."""

    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._key = secrets.token_bytes(32)
        # (user, digest) -> when it was last used.
        self._entries: OrderedDict[tuple[str, bytes], float] = OrderedDict()
        # The middleware reads from the event loop while the scrypt thread adds.
        self._lock = threading.Lock()

    def _entry(self, user: str, secret: str) -> tuple[str, bytes]:
        # The user is part of the digest too, so one user's secret never matches another's.
        message = (
            user.encode("utf-8", "surrogatepass") + b"\0" + secret.encode("utf-8", "surrogatepass")
        )
        return user, hmac.digest(self._key, message, hashlib.sha256)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def contains(self, user: str, secret: str) -> bool:
        """Whether ``user`` proved ``secret`` within the TTL; a hit starts the TTL again."""
        entry = self._entry(user, secret)
        now = self._clock()
        with self._lock:
            used = self._entries.get(entry)
            if used is None:
                return False
            if now - used > self._ttl:
                del self._entries[entry]
                return False
            self._entries[entry] = now
            self._entries.move_to_end(entry)
            return True

    def add(self, user: str, secret: str) -> None:
        """Remember that scrypt accepted ``secret`` for ``user``."""
        entry = self._entry(user, secret)
        with self._lock:
            self._entries[entry] = self._clock()
            self._entries.move_to_end(entry)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
