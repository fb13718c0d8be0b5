"""The delivery bookkeeping both producers share."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from clubhouse.services.deliveries import Deliveries
from clubhouse.services.kafka_errors import DeliveryError
from clubhouse.services.kafka_protocol import DeliveredRecord


def _outcome(topic: str, err: Any, msg: Any) -> DeliveredRecord | DeliveryError:
    if err is not None:
        return DeliveryError(topic, str(err), code="X")
    return DeliveredRecord(topic, 0, int(msg))


def test_a_callback_resolves_its_future_and_a_failure_is_heard_first() -> None:
    heard: list[str] = []
    d = Deliveries(_outcome)
    ok, ok_cb = d.track("a")
    bad, bad_cb = d.track("b", lambda e: heard.append(e.topic))
    assert d.topics() == ["a", "b"]
    ok_cb(None, 7)
    bad_cb("refused", None)
    assert ok.result() == DeliveredRecord("a", 0, 7)
    with pytest.raises(DeliveryError):
        bad.result()
    assert heard == ["b"] and d.futures() == []


def test_a_withdrawn_future_keeps_its_outcome_when_a_late_callback_comes() -> None:
    d = Deliveries(_outcome)
    future, callback = d.track("t")
    failed = d.fail(lambda topic: DeliveryError(topic, "withdrawn", code="WITHDRAWN"))
    assert list(failed.values()) == ["t"]
    callback(None, 3)  # the acknowledgement arrives after all
    with pytest.raises(DeliveryError, match="withdrawn"):
        future.result()


def test_tracking_a_record_makes_no_lock_or_future_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A Future per record (with its Condition and RLock) was a sixth of the service's CPU per
    # command at exactly-once; acknowledgements are plain slots under the one lock.
    made: list[object] = []
    real = threading.Condition

    def counting(*args: Any, **kwargs: Any) -> threading.Condition:
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(threading, "Condition", counting)
    d = Deliveries(_outcome)
    tracked = [d.track("t") for _ in range(1000)]
    for offset, (_, callback) in enumerate(tracked):
        callback(None, offset)
    assert made == []
    assert [delivery.result().offset for delivery, _ in tracked] == list(range(1000))


def test_a_pending_delivery_says_so_instead_of_blocking() -> None:
    delivery, _ = Deliveries(_outcome).track("t")
    assert not delivery.done()
    assert delivery.exception() is None
    with pytest.raises(RuntimeError, match="not acknowledged yet"):
        delivery.result()
