"""The delivery bookkeeping both producers share."""

from __future__ import annotations

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
