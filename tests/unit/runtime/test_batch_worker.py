"""A handler that never returns costs its own command, never the instance."""

from __future__ import annotations

import threading

import pytest

from clubhouse.contracts import Command, ErrorResponse, Response
from clubhouse.runtime.batch_worker import BatchWorker, HandlersStuckError
from tests.apps import misbehaving
from tests.apps.harness import AppHarness
from tests.apps.misbehaving import Count, Counted, Misbehave, Stall


def _handler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("clubhouse-handlers")]


def _worker(h: AppHarness, limit_s: float, max_abandoned: int = 4) -> BatchWorker:
    return BatchWorker(h.processor.process, h.processor.timed_out, timeout_s=limit_s,
                       max_abandoned=max_abandoned)  # fmt: skip


def _answers(h: AppHarness, worker: BatchWorker, commands: list[Command]) -> list[Response]:
    items = [(h.record(c), h.partition) for c in commands]
    results = worker.run(items, threading.Event())
    assert results is not None
    h.partition.committed(h.offset)
    answers: list[Response] = []
    for processed in results:
        [answer] = [m for m in h.decode(processed) if isinstance(m, Response)]
        answers.append(answer)
    return answers


def test_a_sync_handler_past_the_limit_is_given_up_and_its_effects_dropped() -> None:
    h = AppHarness(misbehaving.app)
    worker = _worker(h, limit_s=0.2)
    slow = Misbehave(key="k", how="sleep", text="1")
    first, timed_out, after = _answers(h, worker, [Count(key="k"), slow, Count(key="k")])
    assert isinstance(first, Counted) and first.n == 1
    assert isinstance(timed_out, ErrorResponse), timed_out
    assert (timed_out.error_type, timed_out.in_response_to) == ("handler_timeout", slow.message_id)
    assert isinstance(after, Counted) and after.n == 2
    assert worker.abandoned == 1
    worker.close()
    for thread in _handler_threads():  # the abandoned handler returns, and changes nothing
        thread.join(10)
    worker = _worker(h, limit_s=0.2)
    assert h.state("k") == {"n": 2}
    # Redelivered, the command is answered from its remembered outcome, not run again.
    [again] = _answers(h, worker, [slow])
    assert isinstance(again, ErrorResponse) and again.error_type == "handler_timeout"
    assert worker.abandoned == 0


def test_an_async_handler_that_never_returns_is_cancelled_at_the_limit() -> None:
    h = AppHarness(misbehaving.app, handler_timeout_s=0.2)
    worker = _worker(h, limit_s=5.0)  # the event loop's own limit comes first
    stall = Stall(key="s")
    cancelled, after = _answers(h, worker, [stall, Count(key="s")])
    assert isinstance(cancelled, ErrorResponse)
    assert cancelled.error_type == "handler_timeout" and "cancelled" in cancelled.error_message
    assert isinstance(after, Counted) and after.n == 1
    assert worker.abandoned == 0, "a cancelled coroutine leaves no thread behind"
    assert h.state("s") == {"n": 1}


def test_past_the_bound_of_abandoned_threads_the_instance_gives_up() -> None:
    h = AppHarness(misbehaving.app)
    worker = _worker(h, limit_s=0.1, max_abandoned=1)
    _answers(h, worker, [Misbehave(key="a", how="sleep", text="1")])
    with pytest.raises(HandlersStuckError, match="2 handler threads never returned"):
        _answers(h, worker, [Misbehave(key="b", how="sleep", text="1")])


def test_a_stop_during_a_hanging_handler_returns_at_once_keeping_nothing() -> None:
    h = AppHarness(misbehaving.app)
    worker = _worker(h, limit_s=30.0)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    items = [(h.record(Count(key="x")), h.partition),
             (h.record(Misbehave(key="x", how="sleep", text="2")), h.partition)]  # fmt: skip
    assert worker.run(items, stop) is None
    assert any(t.is_alive() for t in _handler_threads()), "stop must not wait for the handler"
    # Only the record done before the stop reached the batch (which the loop then drops).
    assert {k: e.state for k, (e, _) in h.partition.pending.items()} == {"x": {"n": 1}}
