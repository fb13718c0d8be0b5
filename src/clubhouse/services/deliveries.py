"""The delivery bookkeeping both producers share: one slot per queued record, settled by
librdkafka's delivery callback, or failed by the producer when it withdraws or gives up.

A slot is a plain object, not a ``concurrent.futures.Future``: a Future per record (with
its Condition and locks) cost a sixth of the service's CPU per command, and nobody ever
blocks on one record: the producer serves callbacks until every slot of a batch is
settled. Every slot is settled once, under the one lock of its ``Deliveries``: a slot that
was already failed (withdrawn after a timeout, an abort or a rebuild) keeps that outcome
when a late callback comes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from clubhouse.services.kafka_errors import DeliveryError
from clubhouse.services.kafka_protocol import Acknowledgement, DeliveredRecord

# (topic, librdkafka error or None, message) -> the record's outcome
Outcome = Callable[[str, Any, Any], DeliveredRecord | DeliveryError]


class Delivery:
    """The acknowledgement of one queued record: pending, delivered or failed."""

    __slots__ = ("outcome", "topic")

    def __init__(self, topic: str, outcome: DeliveredRecord | DeliveryError | None = None) -> None:
        self.topic = topic
        self.outcome = outcome

    def done(self) -> bool:
        """Whether the record was acknowledged or failed."""
        return self.outcome is not None

    def result(self) -> DeliveredRecord:
        """Where the record went; its DeliveryError is raised if it failed."""
        outcome = self.outcome
        if isinstance(outcome, DeliveredRecord):
            return outcome
        if outcome is None:
            raise RuntimeError(f"the record to {self.topic!r} is not acknowledged yet")
        raise outcome

    def exception(self) -> DeliveryError | None:
        """Why the record failed; None while pending or once delivered."""
        outcome = self.outcome
        return outcome if isinstance(outcome, DeliveryError) else None


class Deliveries:
    """The records a producer has queued and not yet seen acknowledged."""

    def __init__(self, outcome: Outcome) -> None:
        self._outcome = outcome
        self._lock = threading.Lock()
        self._pending: dict[Delivery, None] = {}  # insertion-ordered set

    def track(
        self, topic: str, on_failure: Callable[[DeliveryError], None] | None = None
    ) -> tuple[Delivery, Callable[[Any, Any], None]]:
        """A slot for one record to ``topic``, and the delivery callback that settles it;
        ``on_failure`` hears of a failed delivery (in the thread serving callbacks, before
        that thread sees the slot settled)."""
        delivery = Delivery(topic)
        with self._lock:
            self._pending[delivery] = None
        return delivery, partial(self._resolve, delivery, on_failure)

    def forget(self, delivery: Delivery) -> None:
        """Stop tracking a slot whose record was never queued."""
        with self._lock:
            self._pending.pop(delivery, None)

    def futures(self) -> list[Delivery]:
        """Every slot still waiting for its acknowledgement."""
        with self._lock:
            return list(self._pending)

    def topics(self) -> list[str]:
        """The topics of the records still waiting, sorted."""
        with self._lock:
            return sorted({d.topic for d in self._pending})

    def fail(
        self,
        error: Callable[[str], DeliveryError],
        futures: Sequence[Acknowledgement] | None = None,
    ) -> dict[Delivery, str]:
        """Fail ``futures`` (every one still waiting, when None) with ``error(topic)``; the
        ones failed here, with their topics."""
        with self._lock:
            chosen = list(self._pending) if futures is None else futures
            failed: dict[Delivery, str] = {}
            for delivery in chosen:
                if not isinstance(delivery, Delivery):
                    continue  # not one of ours, so not ours to fail
                self._pending.pop(delivery, None)
                if delivery.outcome is None:
                    delivery.outcome = error(delivery.topic)
                    failed[delivery] = delivery.topic
        return failed

    def _resolve(
        self, delivery: Delivery, on_failure: Callable[[DeliveryError], None] | None,
        err: Any, msg: Any,
    ) -> None:  # fmt: skip
        outcome = self._outcome(delivery.topic, err, msg)
        with self._lock:
            self._pending.pop(delivery, None)
            if delivery.outcome is not None:
                return  # withdrawn after a timeout, an abort or a rebuild: that outcome stands
            delivery.outcome = outcome
        if on_failure is not None and isinstance(outcome, DeliveryError):
            on_failure(outcome)
