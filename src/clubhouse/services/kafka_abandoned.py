"""``AbandonedClients``: librdkafka clients left behind inside a call that did not return,
kept to a bound; ``Closing`` and ``release_bounded``, which close a client without waiting
for ever.

A call into librdkafka that never returns (``send_offsets_to_transaction`` after its group
coordinator went away, ``close()`` aborting for a transactional id the broker forgot) holds
its client: nothing can free it while the thread is inside. The owner replaces such a client
and hands the old one, with the thread stuck in it, to an ``AbandonedClients``.

Policy: a client whose stuck call returns is released by that thread and forgotten here.
At most ``limit`` stuck clients are tracked; past it the oldest is forgotten (its thread
still holds it, and frees it if the call ever returns) and counted in ``dropped``, with an
error in the log. Each change reaches ``on_change`` with the number tracked, for a metric.
Only a restart of the process frees a client whose call never returns: a growing
``dropped`` says that restart is due.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 3


@dataclass(frozen=True)
class _Stuck:
    client: Any
    thread: threading.Thread


class AbandonedClients:
    """The clients one owner abandoned, at most ``limit`` of them. Thread-safe."""

    def __init__(
        self,
        owner: str,
        *,
        limit: int = DEFAULT_LIMIT,
        on_change: Callable[[int], None] = lambda tracked: None,
    ) -> None:
        if limit < 1:
            raise ValueError(f"the bound of abandoned clients must be at least 1, not {limit}")
        self._owner = owner
        self._limit = limit
        self._on_change = on_change
        self._lock = threading.Lock()
        self._stuck: deque[_Stuck] = deque()
        self._dropped = 0

    @property
    def tracked(self) -> int:
        """Clients still stuck in a call, at most ``limit``."""
        with self._lock:
            self._sweep()
            return len(self._stuck)

    @property
    def dropped(self) -> int:
        """Stuck clients forgotten because the bound was reached."""
        with self._lock:
            return self._dropped

    def add(self, client: Any, thread: threading.Thread) -> None:
        """Track ``client``, held by ``thread`` inside a call that has not returned."""
        with self._lock:
            self._sweep()
            self._stuck.append(_Stuck(client, thread))
            forgotten = 0
            while len(self._stuck) > self._limit:
                self._stuck.popleft()
                self._dropped += 1
                forgotten += 1
            tracked, dropped = len(self._stuck), self._dropped
        if forgotten:
            log.error(
                "too many Kafka clients stuck in librdkafka; the oldest is no longer tracked "
                "(only a restart frees it)",
                extra={"owner": self._owner, "limit": self._limit, "dropped": dropped},
            )
        self._on_change(tracked)

    def _sweep(self) -> None:
        """Forget the clients whose call has returned: their thread has released them."""
        alive = [s for s in self._stuck if s.thread.is_alive()]
        if len(alive) != len(self._stuck):
            self._stuck = deque(alive)


class Closing:
    """A client being closed in a thread of its own, so that its owner can go on meanwhile
    (build and register the client that replaces it) and settle the close afterwards."""

    def __init__(self, client: Any, close: Callable[[Any], None], *, name: str) -> None:
        self._client = client
        self._started = time.monotonic()
        self._thread = threading.Thread(target=close, args=(client,), name=name, daemon=True)
        self._thread.start()

    def settle(self, timeout: float, abandoned: AbandonedClients) -> bool:
        """Wait until ``timeout`` seconds after the close began; True once it returned,
        False when it did not, and the client is now in ``abandoned``."""
        self._thread.join(max(0.0, self._started + timeout - time.monotonic()))
        if not self._thread.is_alive():
            return True
        abandoned.add(self._client, self._thread)
        return False


def release_bounded(
    client: Any,
    close: Callable[[Any], None],
    *,
    timeout: float,
    abandoned: AbandonedClients,
    name: str,
) -> bool:
    """``close(client)`` in a thread of its own, waiting at most ``timeout`` seconds.

    True once it returned; False when it did not, and the client is now in ``abandoned``.
    """
    return Closing(client, close, name=name).settle(timeout, abandoned)
