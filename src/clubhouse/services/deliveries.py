"""The delivery bookkeeping both producers share: one future per queued record, resolved by
librdkafka's delivery callback, or failed by the producer when it withdraws or gives up.

A future that was already failed (withdrawn after a timeout, an abort or a rebuild) keeps
that outcome when a late callback comes; every setter tolerates the race with another
thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from typing import Any

from clubhouse.services.kafka_errors import DeliveryError
from clubhouse.services.kafka_protocol import DeliveredRecord

# (topic, librdkafka error or None, message) -> the record's outcome
Outcome = Callable[[str, Any, Any], DeliveredRecord | DeliveryError]


class Deliveries:
    """The records a producer has queued and not yet seen acknowledged."""

    def __init__(self, outcome: Outcome) -> None:
        self._outcome = outcome
        self._lock = threading.Lock()
        self._pending: dict[Future[DeliveredRecord], str] = {}  # future -> topic

    def track(
        self, topic: str, on_failure: Callable[[DeliveryError], None] = lambda error: None
    ) -> tuple[Future[DeliveredRecord], Callable[[Any, Any], None]]:
        """A future for one record to ``topic``, and the delivery callback that resolves it;
        ``on_failure`` hears of a failed delivery first."""
        future: Future[DeliveredRecord] = Future()

        def on_delivery(err: Any, msg: Any) -> None:
            self._resolve(future, topic, err, msg, on_failure)

        with self._lock:
            self._pending[future] = topic
        return future, on_delivery

    def forget(self, future: Future[DeliveredRecord]) -> None:
        """Stop tracking a future whose record was never queued."""
        with self._lock:
            self._pending.pop(future, None)

    def futures(self) -> list[Future[DeliveredRecord]]:
        """Every future still waiting for its acknowledgement."""
        with self._lock:
            return list(self._pending)

    def topics(self) -> list[str]:
        """The topics of the records still waiting, sorted."""
        with self._lock:
            return sorted(set(self._pending.values()))

    def fail(
        self,
        error: Callable[[str], DeliveryError],
        futures: Sequence[Future[DeliveredRecord]] | None = None,
    ) -> dict[Future[DeliveredRecord], str]:
        """Fail ``futures`` (every one still waiting, when None) with ``error(topic)``; the
        ones failed here, with their topics."""
        with self._lock:
            if futures is None:
                failed = dict(self._pending)
                self._pending.clear()
            else:
                failed = {f: self._pending.pop(f, "?") for f in futures if not f.done()}
        for future, topic in failed.items():
            with contextlib.suppress(InvalidStateError):  # resolved in the meantime
                future.set_exception(error(topic))
        return failed

    def _resolve(
        self, future: Future[DeliveredRecord], topic: str, err: Any, msg: Any,
        on_failure: Callable[[DeliveryError], None],
    ) -> None:  # fmt: skip
        self.forget(future)
        if future.done():
            return  # withdrawn after a timeout, an abort or a rebuild: that outcome stands
        outcome = self._outcome(topic, err, msg)
        with contextlib.suppress(InvalidStateError):  # withdrawn by another thread meanwhile
            if isinstance(outcome, DeliveryError):
                on_failure(outcome)
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
