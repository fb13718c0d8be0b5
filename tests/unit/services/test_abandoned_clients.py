"""AbandonedClients: stuck librdkafka clients are bounded, counted, and forgotten once the
call that held them returns."""

from __future__ import annotations

import threading

import pytest

from clubhouse.services.kafka_abandoned import AbandonedClients, release_bounded


class _StuckCall:
    """A thread inside a 'call' that returns only when released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.thread = threading.Thread(target=self.release.wait, daemon=True)
        self.thread.start()

    def finish(self) -> None:
        self.release.set()
        self.thread.join(5)


def test_past_the_bound_the_oldest_is_forgotten_and_counted() -> None:
    seen: list[int] = []
    abandoned = AbandonedClients("unit", limit=2, on_change=seen.append)
    calls = [_StuckCall() for _ in range(3)]
    try:
        for n, call in enumerate(calls):
            abandoned.add(f"client-{n}", call.thread)
        assert abandoned.tracked == 2
        assert abandoned.dropped == 1
        assert seen == [1, 2, 2]
    finally:
        for call in calls:
            call.finish()


def test_a_client_whose_call_returns_is_no_longer_tracked() -> None:
    abandoned = AbandonedClients("unit", limit=2)
    call = _StuckCall()
    abandoned.add("client", call.thread)
    assert abandoned.tracked == 1
    call.finish()
    assert abandoned.tracked == 0
    assert abandoned.dropped == 0


def test_release_bounded_abandons_a_close_that_does_not_return() -> None:
    abandoned = AbandonedClients("unit")
    release = threading.Event()
    try:
        assert not release_bounded("client", lambda c: release.wait(), timeout=0.01,
                                   abandoned=abandoned, name="close")  # fmt: skip
        assert abandoned.tracked == 1
    finally:
        release.set()
    closed: list[object] = []
    assert release_bounded("other", closed.append, timeout=5, abandoned=abandoned, name="close")
    assert closed == ["other"]


def test_the_bound_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AbandonedClients("unit", limit=0)
