"""Runs a batch's records through the processor on a worker thread, with a time limit per
record, so that a handler that never returns cannot hold the whole instance.

The service loop hands each batch over once (one thread hop per batch, none per command)
and waits, waking only when the record in progress could have passed its limit or when asked
to stop. A record past the limit is given up: the worker thread is abandoned where it hangs,
the loop answers that record itself (``handler_timeout``), and a fresh worker carries on with
the rest of the batch.

Nothing an abandoned worker does afterwards is kept. Each record's state changes are staged
apart and handed to the partition's batch, with the record's outputs, in one step under a
lock, which an abandoned worker can no longer take. Past ``max_abandoned`` abandoned threads
(each may hold memory, a socket, or a core) the instance reports itself unhealthy and stops,
for its supervisor to restart it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from clubhouse.errors import ClubhouseError
from clubhouse.messaging.entries import Entry
from clubhouse.messaging.processor import KeyedState, Processed
from clubhouse.services.kafka_protocol import ConsumedRecord

log = logging.getLogger(__name__)

Process = Callable[[ConsumedRecord, KeyedState], Processed]
# (record given up, its partition's state, the limit in seconds) -> its answer
TimedOut = Callable[[ConsumedRecord, KeyedState, float], Processed]
_WAKE_S = 0.25  # how often a waiting loop looks at the stop signal


class HandlersStuckError(ClubhouseError):
    """Too many handler threads never returned: the instance must be restarted."""


class _Staged:
    """One record's changes to one partition's state, kept apart until the record is done."""

    __slots__ = ("changes", "real")

    def __init__(self, real: KeyedState) -> None:
        self.real = real
        self.changes: dict[str, tuple[Entry, bytes | None]] = {}

    def get(self, key: str) -> Entry | None:
        staged = self.changes.get(key)
        return staged[0] if staged is not None else self.real.get(key)

    def put(self, key: str, entry: Entry, value: bytes | None) -> None:
        self.changes[key] = (entry, value)

    def accept(self) -> None:
        for key, (entry, value) in self.changes.items():
            self.real.put(key, entry, value)
        self.changes.clear()


@dataclass(eq=False)
class _Job:
    """A run of a batch's records, from ``start``, on one worker thread."""

    items: Sequence[tuple[ConsumedRecord, KeyedState]]
    start: int
    started: float  # when the record in progress began
    results: list[Processed] = field(default_factory=list)
    error: BaseException | None = None
    abandoned: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)


class BatchWorker:
    """Processes batches on a worker thread; see the module docstring."""

    def __init__(
        self,
        process: Process,
        timed_out: TimedOut,
        *,
        timeout_s: float,
        max_abandoned: int = 4,
        on_abandoned: Callable[[int], None] = lambda count: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"the handler time limit must be above 0 s, not {timeout_s}")
        self._process = process
        self._timed_out = timed_out
        self._timeout = timeout_s
        self._max_abandoned = max_abandoned
        self._on_abandoned = on_abandoned
        self._clock = clock
        self._jobs: queue.SimpleQueue[_Job | None] | None = None
        self.abandoned = 0

    def run(
        self, items: Sequence[tuple[ConsumedRecord, KeyedState]], stop: threading.Event
    ) -> list[Processed] | None:
        """Each record's result, in order; for a record given up at its time limit, the
        ``timed_out`` answer (nothing the handler did is kept). None for the whole batch
        when ``stop`` was set before it was done."""
        results: list[Processed] = []
        while len(results) < len(items):
            job = _Job(items, len(results), self._clock())
            self._submit(job)
            outcome = self._watch(job, stop)
            results.extend(job.results)
            if job.error is not None:
                raise job.error
            if outcome == "stopped":
                return None
            if outcome == "timeout":
                record, state = items[len(results)]
                self._give_up(record)
                # Answered here, before the next record of its key runs, on the state the
                # abandoned worker can no longer change.
                results.append(self._timed_out(record, state, self._timeout))
        return results

    def close(self) -> None:
        """Let the worker thread end once it is idle."""
        if self._jobs is not None:
            self._jobs.put(None)
            self._jobs = None

    def _submit(self, job: _Job) -> None:
        if self._jobs is None:
            self._jobs = queue.SimpleQueue()
            name = f"clubhouse-handlers-{self.abandoned}"
            threading.Thread(target=self._work, args=(self._jobs,), name=name,
                             daemon=True).start()  # fmt: skip
        self._jobs.put(job)

    def _watch(self, job: _Job, stop: threading.Event) -> str:
        """Wait for ``job``: "done", "timeout" (its record in progress is past the limit,
        and the job is abandoned) or "stopped"."""
        while True:
            remaining = job.started + self._timeout - self._clock()
            if job.done.wait(min(max(remaining, 0.0), _WAKE_S)):
                return "done"
            with job.lock:
                if job.done.is_set():
                    return "done"
                if stop.is_set():
                    job.abandoned = True
                    return "stopped"
                if self._clock() - job.started >= self._timeout:
                    job.abandoned = True
                    return "timeout"

    def _give_up(self, record: ConsumedRecord) -> None:
        self._jobs = None  # the thread stays where it hangs; the next job gets a new one
        self.abandoned += 1
        log.error(
            "a handler ran past its time limit; its thread is abandoned and its command "
            "answered handler_timeout",
            extra={"source": record.source, "limit_s": self._timeout,
                   "abandoned_threads": self.abandoned},
        )  # fmt: skip
        self._on_abandoned(self.abandoned)
        if self.abandoned > self._max_abandoned:
            raise HandlersStuckError(
                f"{self.abandoned} handler threads never returned (the bound is "
                f"{self._max_abandoned}); the instance stops so that its supervisor restarts it"
            )

    def _work(self, jobs: queue.SimpleQueue[_Job | None]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            if not self._run_job(job):
                return  # abandoned: this thread is no longer the worker

    def _run_job(self, job: _Job) -> bool:
        staged: dict[int, _Staged] = {}
        for record, state in job.items[job.start :]:
            view = staged.get(id(state))
            if view is None:
                view = staged[id(state)] = _Staged(state)
            try:
                processed = self._process(record, view)
            except BaseException as exc:  # the loop thread raises it, as if it ran there
                with job.lock:
                    if not job.abandoned:
                        job.error = exc
                        job.done.set()
                return not job.abandoned
            with job.lock:
                if job.abandoned:
                    return False
                view.accept()
                job.results.append(processed)
                job.started = self._clock()
        with job.lock:
            job.done.set()
            return not job.abandoned
