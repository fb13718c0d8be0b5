"""Group commit: writes from many threads share one transaction and one commit (one fsync).

Each writer thread hands in its work and waits. When no group is being written, the first
waiting thread becomes the leader: it takes every write queued so far (up to
``max_group``), has the runner do them all in one transaction and commit it, settles each
write with its own outcome, and passes the lead to the oldest write that queued meanwhile.
So writes that arrive while a commit is in flight are committed together by the next one,
and a lone write is committed at once, without waiting for company.

A write's caller is answered only once the commit holding it has returned: a value is
never handed out before it is durable. When the group as a whole fails (its transaction
could not start or its commit failed) every write in it gets that error.

This module knows nothing of SQLite: the runner (``Store.run_group``) owns the transaction.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

C = TypeVar("C")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one write of a group came to: its value, or the exception that refused it."""

    value: object = None
    error: BaseException | None = None


Work = Callable[[C], object]
"""One write: given the group's transaction context, it changes the store and returns a value."""

GroupRunner = Callable[[Sequence[Work[C]]], Sequence[Outcome]]
"""Runs writes in one transaction and commits it: an outcome per write, in order, or raises
when the group as a whole failed (then nothing of it was committed)."""


class _Ticket(Generic[C]):
    """One caller's write, waiting to be committed or to lead a group."""

    __slots__ = ("outcome", "wake", "work")

    def __init__(self, work: Work[C]) -> None:
        self.work = work
        # Set once: when the write is settled, or when this caller is to lead the next group.
        self.wake = threading.Event()
        self.outcome: Outcome | None = None


class GroupCommit(Generic[C]):
    """Batches concurrent writes into shared commits through ``run_group``."""

    def __init__(self, run_group: GroupRunner[C], *, max_group: int = 64) -> None:
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._run_group = run_group
        self._max_group = max_group
        self._lock = threading.Lock()
        self._queue: deque[_Ticket[C]] = deque()
        self._leading = False
        self._leader: int | None = None

    @property
    def queued(self) -> int:
        """Writes waiting for a group to take them (not counting the group being written)."""
        with self._lock:
            return len(self._queue)

    def run(self, work: Callable[[C], T]) -> T:
        """Run ``work`` in the next group commit; its value once that commit has returned.

        Raises what ``work`` raised (only its own changes are undone), or the group's error
        when the group failed as a whole.
        """
        if self._leader == threading.get_ident():
            # The leader would wait on a group only it can write: a deadlock, never a result.
            raise RuntimeError("a group-committed write cannot start another one")
        ticket: _Ticket[C] = _Ticket(work)
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        if not lead:
            try:
                ticket.wake.wait()
            except BaseException:  # interrupted (KeyboardInterrupt): leave no one waiting on us
                self._withdraw(ticket)
                raise
            if ticket.outcome is None:  # woken to lead, not settled
                lead = True
        if lead:
            self._lead()
        outcome = ticket.outcome
        assert outcome is not None  # a leader's own write is always in the group it led
        if outcome.error is not None:
            raise outcome.error
        return cast(T, outcome.value)

    def _lead(self) -> None:
        """Write one group: the queue's head (this caller) and whatever queued behind it."""
        with self._lock:
            count = min(len(self._queue), self._max_group)
            group = [self._queue.popleft() for _ in range(count)]
        self._leader = threading.get_ident()
        try:
            outcomes = self._run_group([ticket.work for ticket in group])
            if len(outcomes) != len(group):
                raise RuntimeError(f"{len(group)} writes came back as {len(outcomes)} outcomes")
        except BaseException as exc:
            outcomes = [Outcome(error=exc)] * len(group)
            if not isinstance(exc, Exception):
                self._settle(group, outcomes)
                raise
        self._settle(group, outcomes)

    def _withdraw(self, ticket: _Ticket[C]) -> None:
        """Take back a write whose caller stopped waiting, if no group has taken it yet."""
        with self._lock:
            if ticket not in self._queue:
                return  # in a group being written: it commits or fails with that group
            handed_the_lead = self._queue[0] is ticket and ticket.wake.is_set()
            self._queue.remove(ticket)
            if handed_the_lead:
                if self._queue:
                    self._queue[0].wake.set()
                else:
                    self._leading = False

    def _settle(self, group: Sequence[_Ticket[C]], outcomes: Sequence[Outcome]) -> None:
        self._leader = None
        with self._lock:
            if self._queue:
                # Handing over before waking the settled callers lets the next commit start
                # while they are still being answered.
                self._queue[0].wake.set()
            else:
                self._leading = False
        for ticket, outcome in zip(group, outcomes, strict=True):
            ticket.outcome = outcome
            ticket.wake.set()
