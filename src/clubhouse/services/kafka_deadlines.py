"""``TransactionDeadlines``: how long each step of a Kafka transaction may take, derived from
the transaction timeout and the client's request timeout rather than fixed.

The broker aborts a transaction left open past ``transaction.timeout.ms``: a call that
waits longer than that waits for a transaction that is gone, so no call of a transaction
gets more. Within it fit the wait for the records' acknowledgements, the offsets, the
commit, and room for a retry; so one attempt at a coordinator step (a ``send_offsets``
attempt, an ``abort``) gets a quarter of it, and never more than one request may take
(``request.timeout.ms``). When librdkafka ignores an attempt's own timeout (it can block
for good once the coordinator it had cached is gone), a watchdog gives the attempt half a
step more (for a reply already on its way, and a loaded machine's scheduling) before its
client counts as stuck and is replaced: every second the watchdog waits, a stuck instance
answers nothing. Closing a replaced client gets one step.

With the service's defaults (transaction timeout 10 s, request timeout 30 s) a step is
2.5 s and a stuck ``send_offsets`` attempt is replaced after 3.75 s, where a fixed 30 s
call plus a 5 s grace used to leave the instance answering nothing for 35 s after a broker
died.
"""

from __future__ import annotations

from dataclasses import dataclass

from clubhouse.services.kafka_settings import KafkaSettings

LIBRDKAFKA_REQUEST_TIMEOUT_MS = 30_000  # librdkafka's default request.timeout.ms
_STEPS_PER_TRANSACTION = 4  # acknowledgements, offsets, commit, and a retry of one of them


@dataclass(frozen=True)
class TransactionDeadlines:
    """Seconds a transaction and one request may take; every bound below follows from them."""

    transaction_s: float
    request_s: float

    def __post_init__(self) -> None:
        if self.transaction_s <= 0 or self.request_s <= 0:
            raise ValueError(
                f"timeouts must be positive: transaction {self.transaction_s:g} s, "
                f"request {self.request_s:g} s"
            )

    @classmethod
    def derive(cls, settings: KafkaSettings, transaction_timeout_ms: int) -> TransactionDeadlines:
        """From the transaction timeout and the producer's ``request.timeout.ms`` (as
        ``settings.extra`` sets it, else librdkafka's default)."""
        conf = settings.producer_config(idempotence=True)
        request_ms = float(conf.get("request.timeout.ms", LIBRDKAFKA_REQUEST_TIMEOUT_MS))
        return cls(transaction_timeout_ms / 1000, request_ms / 1000)

    @property
    def step_s(self) -> float:
        """The longest one coordinator step of a transaction may take."""
        return min(self.transaction_s / _STEPS_PER_TRANSACTION, self.request_s)

    def step(self, wanted: float) -> float:
        """``wanted``, but no longer than a step."""
        return min(wanted, self.step_s)

    def within_transaction(self, wanted: float) -> float:
        """``wanted``, but no longer than the transaction itself may stay open."""
        return min(wanted, self.transaction_s)

    def watchdog_s(self, call_s: float) -> float:
        """How long a call given ``call_s`` may block before its client counts as stuck."""
        return call_s + self.step_s / 2

    @property
    def release_s(self) -> float:
        """How long closing a replaced client may take before it is abandoned."""
        return self.step_s
