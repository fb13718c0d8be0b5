"""A small thread pool with a bounded queue, for CPU-heavy work kept off the event loop.

The registry has three: one for scrypt (password checks) and two lanes for parsing schemas
and checking compatibility (:class:`ParseLanes`: ordinary requests, and large ones on their
own), each apart from the database's threads, so a flood of any cannot delay writes. When a
pool already holds ``max_pending`` jobs (running or queued), a new one is refused at once with
503 instead of joining a queue without bound. A job that has not started yet is dropped when
its request goes away; one that runs finishes (Python cannot stop a thread), which is why the
pools are small.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from starlette.requests import ClientDisconnect
from starlette.types import Receive

from clubhouse.registry.errors import ApiError

P = ParamSpec("P")
T = TypeVar("T")


class PoolBusy(ApiError):
    """The pool's queue is full; the client should retry (HTTP 503)."""


class BoundedPool:
    """``max_workers`` threads and at most ``max_pending`` jobs admitted at a time."""

    def __init__(self, name: str, *, max_workers: int, max_pending: int) -> None:
        if max_workers < 1 or max_pending < max_workers:
            raise ValueError(f"{name}: need 1 <= max_workers <= max_pending")
        self.name = name
        self.max_pending = max_pending
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)
        self._pending = 0

    @property
    def pending(self) -> int:
        """Jobs admitted and not yet finished."""
        return self._pending

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)`` in a pool thread; PoolBusy when the queue is full.

        Cancelling the awaiting task (the client left) removes a job that has not started.
        """
        if self._pending >= self.max_pending:
            raise PoolBusy(
                503,
                503,
                f"The registry is busy ({self.name}: {self.max_pending} jobs waiting); "
                "retry shortly.",
            )
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, functools.partial(func, *args, **kwargs)
            )
        finally:
            self._pending -= 1

    async def run_for(
        self, receive: Receive, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """:meth:`run` for one request whose body is read: ClientDisconnect if it goes first.

        ``receive`` is the request's ASGI receive; with the body read, the only message left
        is the disconnect, and a job still queued then is dropped.
        """
        job = asyncio.ensure_future(self.run(func, *args, **kwargs))
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({job, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not job.done():
            job.cancel()
            raise ClientDisconnect()
        return job.result()

    def close(self) -> None:
        """Cancel the jobs not started and wait for the running ones."""
        self._executor.shutdown(wait=True, cancel_futures=True)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class ParseLanes:
    """Two parse pools: ``ordinary`` for most requests, ``large`` for those over ``large_from``.

    A request's work (characters of schema text it may parse) picks its lane before it is
    queued, so however many large schemas are being checked, an ordinary request never
    waits behind one: it queues only behind other ordinary requests.
    """

    def __init__(self, ordinary: BoundedPool, large: BoundedPool, *, large_from: int) -> None:
        self.ordinary = ordinary
        self.large = large
        self.large_from = large_from

    def for_work(self, chars: int) -> BoundedPool:
        """The pool for a request that may parse ``chars`` characters of schema text."""
        return self.large if chars >= self.large_from else self.ordinary

    def close(self) -> None:
        """Close both pools."""
        self.ordinary.close()
        self.large.close()


LARGE_WORK_CHARS = 256 * 1024
"""Schema text from which a request counts as large: about 8,000 fields, some 0.2 s of work."""


def parse_lanes() -> ParseLanes:
    """Where submitted schemas are parsed and checked.

    Parsing is CPU work that even small schemas make long enough to stall the event loop for
    every other client, so none of it runs there; the caps turn a flood into quick 503s.
    Ordinary requests get two threads and 128 places; large ones one thread and 8 places,
    so at most one large job runs at a time beside the ordinary ones.
    """
    return ParseLanes(
        BoundedPool("schema-parse", max_workers=2, max_pending=128),
        BoundedPool("schema-parse-large", max_workers=1, max_pending=8),
        large_from=LARGE_WORK_CHARS,
    )
