"""``TransactionalProducer``: confluent-kafka's transactional producer for an exactly-once
(KIP-447) consume-process-produce loop, with librdkafka's errors sorted by what to do next.

One transaction per batch: ``begin``, ``produce`` the outputs, ``wait`` for their
acknowledgements, ``send_offsets`` with the consumer's ``group_metadata``, ``commit``. What a
failure means:

* TransactionAbortableError: this transaction cannot commit (a record was refused, say).
  ``abort``, rewind the consumer (``seek``) and the batch may be processed again.
* TransactionFencedError: the producer is beyond use, because another instance took over
  the transactional id (``_FENCED``, ``PRODUCER_FENCED``, ``INVALID_PRODUCER_EPOCH``), the
  broker forgot the id (``TRANSACTIONAL_ID_NOT_FOUND``, code 105), a fatal error struck, or
  at ``send_offsets`` the group has moved on to a newer generation (``ILLEGAL_GENERATION``,
  ``UNKNOWN_MEMBER_ID``, ``FENCED_INSTANCE_ID``). ``rebuild`` and treat the partitions as
  possibly lost: another member may own them now. A rebuild closes the old client while
  the new one registers the id (its close() aborts first, which the new registration does
  anyway, and Tansu never answers an abort for an id it forgot); a close that has not
  returned by then, and by ``release_timeout``, is abandoned.
* Retriable errors are retried inside ``init``, ``send_offsets``, ``commit`` and ``abort``
  until their timeout, then raised as TransactionTimeoutError.

No call made for a transaction waits past the transaction's own timeout: ``send_offsets``
and ``commit`` get at most all of it, each attempt of ``send_offsets`` and all of ``abort``
one step of it, and a ``send_offsets`` attempt stuck past its own timeout is replaced half
a step later (``kafka_deadlines``).

Every client instance has its own error monitor: a late fatal error of a replaced (or
abandoned) client never marks the one that took its place. Abandoned clients are bounded
(``max_abandoned``; see ``kafka_abandoned`` for the policy).

Measured with confluent-kafka 2.16 (tests/integration/kafka/test_transactions.py):

* Apache Kafka 4.1 behaves as the protocol says: aborted records are hidden from
  read_committed consumers; a second producer with the same id fences the first (its commit
  raises ``_FENCED``); a member that stalled past ``max.poll.interval.ms`` while another
  joined gets ``UNKNOWN_MEMBER_ID`` at ``send_offsets``; the group's committed offsets
  cannot be read (UNSTABLE_OFFSET_COMMIT) while a transaction holds offsets for them.
* Tansu 0.6 differs: records of an aborted transaction that had been flushed stay visible
  to read_committed consumers, and an abandoned transaction is never timed out. A fenced
  producer's commit is not refused but its connection dropped, so it retries until the
  timeout (TransactionTimeoutError, not TransactionFencedError). ``send_offsets`` does not
  check the group generation: a stale member's offsets are committed. Exactly-once holds
  on Kafka only; on the dev broker it degrades to at-least-once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import KafkaException, Producer, TopicPartition

from clubhouse.retry import RetryPolicy
from clubhouse.services.deliveries import Deliveries
from clubhouse.services.error_policy import Disposition, client_disposition
from clubhouse.services.kafka_abandoned import DEFAULT_LIMIT, AbandonedClients, Closing
from clubhouse.services.kafka_deadlines import TransactionDeadlines
from clubhouse.services.kafka_errors import (
    GROUP_FENCING_CODES,
    DeliveryError,
    DeliveryTimeoutError,
    KafkaConfigError,
    ProduceError,
    TransactionAbortableError,
    TransactionError,
    TransactionFencedError,
    TransactionTimeoutError,
)
from clubhouse.services.kafka_events import ClientErrorMonitor, LibrdkafkaLog
from clubhouse.services.kafka_producer import (
    DEFAULT_TIMEOUT,
    ProducerFactory,
    delivery_outcome,
    enqueue,
    raise_failures,
)
from clubhouse.services.kafka_protocol import (
    Acknowledgement,
    DeliveredRecord,
    Header,
    TopicOffset,
)
from clubhouse.services.kafka_settings import KafkaSettings

log = logging.getLogger(__name__)

_WAIT_SLICE = 0.1  # flush in slices so that our own futures are checked between them
_MAX_BACKOFF = 1.0
# TRANSACTIONAL_ID_NOT_FOUND, which librdkafka 2.16 has no name for ("ERR_105?"): the broker
# forgot the id (Tansu after a restart). No abort can succeed; only a new init can.
_ID_FORGOTTEN_CODES = frozenset({105})


class TransactionalProducer:
    """Produces records in transactions under one ``transactional.id``.

    Not thread-safe beyond what confluent-kafka is: one loop drives it.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        transactional_id: str,
        transaction_timeout_ms: int = 10000,
        enqueue_timeout: float = 5.0,
        producer_factory: ProducerFactory = Producer,
        release_timeout: float | None = None,
        max_abandoned: int = DEFAULT_LIMIT,
        deadlines: TransactionDeadlines | None = None,
    ) -> None:
        """``deadlines`` defaults to what ``transaction_timeout_ms`` and the settings'
        request timeout imply; ``release_timeout`` (closing a replaced client) to its step."""
        self._settings = settings
        self._id = transactional_id
        self._timeout_ms = transaction_timeout_ms
        self._enqueue_timeout = enqueue_timeout
        self._factory = producer_factory
        self._deadlines = deadlines or TransactionDeadlines.derive(settings, transaction_timeout_ms)
        self._release_timeout = (
            self._deadlines.release_s if release_timeout is None else release_timeout
        )
        self._deliveries = Deliveries(delivery_outcome)
        # Set when a record of the open transaction failed or timed out: it must not commit.
        self._doomed: str | None = None
        self._abandoned = AbandonedClients(
            f"transactional producer {transactional_id!r}", limit=max_abandoned
        )
        self._init_timeout = DEFAULT_TIMEOUT
        self._closed = False
        self._producer, self._errors = self._create()

    @property
    def abandoned(self) -> AbandonedClients:
        """The clients left stuck inside librdkafka, bounded."""
        return self._abandoned

    @property
    def transactional_id(self) -> str:
        """The ``transactional.id`` this producer (and every rebuilt one) uses."""
        return self._id

    def init(self, timeout: float) -> None:
        """Register the transactional id, fencing any older producer with it and aborting
        its open transaction; retriable errors are retried until ``timeout``."""
        self._init_timeout = timeout
        self._retrying("init_transactions", timeout, self._producer.init_transactions)
        log.info(
            "transactional producer ready",
            extra={"transactional_id": self._id, "client_id": self._settings.client_id},
        )

    def begin(self) -> None:
        """Start a transaction; records produced from now on belong to it."""
        self._check_usable("begin_transaction")
        self._doomed = None
        self._once("begin_transaction", self._producer.begin_transaction)

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[Header] = (),
        *,
        partition: int | None = None,
    ) -> Acknowledgement:
        """Queue one record in the open transaction; the future resolves on acknowledgement.

        Raises ProduceError when the record cannot be queued (the transaction can then only
        be aborted), a TransactionError when librdkafka refuses it for the transaction's sake.
        """
        self._check_usable("produce")
        future, on_delivery = self._deliveries.track(topic, self._doom)
        try:
            enqueue(
                self._producer,
                topic,
                key,
                value,
                headers,
                on_delivery=on_delivery,
                partition=partition,
                enqueue_timeout=self._enqueue_timeout,
            )
        except ProduceError as exc:
            self._doomed = str(exc)
            self._deliveries.forget(future)
            raise
        except KafkaException as exc:
            self._deliveries.forget(future)
            raise self._classify("produce", exc.args[0]) from exc
        # No poll per record: ``wait`` serves the acknowledgements of the whole batch, and a
        # full local queue is served by ``enqueue`` itself. Polling each time cost more CPU
        # than the rest of producing the record.
        return future

    def wait(
        self, futures: Sequence[Acknowledgement], timeout: float
    ) -> list[DeliveredRecord]:
        """Serve acknowledgements until every future has resolved; their records in order.

        Failures raise BatchDeliveryError with each failed record's index. Records not
        acknowledged within ``timeout`` fail with DeliveryTimeoutError. Either way the
        transaction can then only be aborted: ``commit`` refuses.
        """
        deadline = time.monotonic() + timeout
        while not all(f.done() for f in futures):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._time_out(futures, timeout)
                break
            self._serve("wait", min(remaining, _WAIT_SLICE), flush=True)
        raise_failures(futures)
        return [f.result() for f in futures]

    def send_offsets(
        self, offsets: Sequence[TopicOffset], group_metadata: object, timeout: float
    ) -> None:
        """Add these consumer offsets (each the next offset to read) to the transaction.

        ``group_metadata`` comes from the consumer's ``group_metadata()``: with it the broker
        refuses offsets of a member the group has moved on from (TransactionFencedError).
        ``timeout`` is cut to the transaction timeout, each attempt to one step of it (see
        ``kafka_deadlines``): a coordinator that moves is waited for, a stuck call is not.
        """
        if not offsets:
            return
        budget = self._deadlines.within_transaction(timeout)
        partitions = [TopicPartition(o.topic, o.partition, o.offset) for o in offsets]
        producer = self._producer
        failure: list[BaseException] = []
        handover = threading.Lock()  # the call's end and the watchdog's verdict, one at a time
        returned = threading.Event()
        abandoned = threading.Event()
        # When the attempt in progress counts as stuck; none while the worker backs off.
        watched = self._deadlines.watchdog_s(self._deadlines.step_s)
        watch = {"until": time.monotonic() + watched}

        def attempt(remaining: float) -> None:
            limit = self._deadlines.step(remaining)
            with handover:
                watch["until"] = time.monotonic() + self._deadlines.watchdog_s(limit)
            try:
                producer.send_offsets_to_transaction(partitions, group_metadata, limit)
            finally:
                with handover:
                    watch["until"] = float("inf")

        def call() -> None:
            try:
                self._retrying("send_offsets_to_transaction", budget, attempt)
            except BaseException as exc:
                failure.append(exc)
            with handover:
                returned.set()
                late = abandoned.is_set()
            if late:
                # The call came back after all, too late: nobody else holds this client now.
                _release(producer, self._id)

        # librdkafka can ignore this call's timeout and block for good when the group
        # coordinator it had cached went away (measured after a Kafka restart, and after a
        # kill -9 of the coordinator's node). A watchdog bounds each attempt: a client stuck
        # in one is abandoned, and a fresh one takes over the transactional id.
        worker = threading.Thread(target=call, name="send-offsets", daemon=True)
        worker.start()
        while True:
            worker.join(_WAIT_SLICE)
            with handover:
                if returned.is_set():
                    break
                if time.monotonic() > watch["until"]:
                    abandoned.set()
                    break
        if abandoned.is_set():
            self._abandon(producer, worker)
            raise TransactionFencedError(
                self._id, "send_offsets_to_transaction",
                f"an attempt got no answer within {watched:g} s "
                "(librdkafka ignored its timeout); the client was replaced", "_STUCK",
            )  # fmt: skip
        if failure:
            raise failure[0]

    def commit(self, timeout: float) -> None:
        """Commit the transaction: its records and offsets become visible together.

        Flushes what is still queued first. TransactionTimeoutError leaves the outcome
        unknown until ``commit`` (or ``abort``) is called again. ``timeout`` is cut to the
        transaction timeout: past it there is no open transaction left to wait for.
        """
        if self._doomed is not None:
            raise TransactionAbortableError(
                self._id, "commit_transaction", self._doomed, "RECORD_FAILED"
            )
        self._retrying(
            "commit_transaction",
            self._deadlines.within_transaction(timeout),
            self._producer.commit_transaction,
        )

    def abort(self, timeout: float) -> None:
        """Abort the transaction; queued records are purged and their futures fail.
        ``timeout`` is cut to one step: a rebuild settles an abort that cannot finish."""
        self._retrying(
            "abort_transaction", self._deadlines.step(timeout), self._producer.abort_transaction
        )
        self._doomed = None
        self._withdraw("the transaction was aborted")

    def rebuild(self, reason: str, *, timeout: float | None = None) -> None:
        """Replace the client with a fresh one under the same transactional id and ``init``
        it (within ``timeout``, by default the last ``init``'s): how a fenced or fatally
        failed producer recovers. The old client's open transaction is aborted by the
        broker when the new one registers."""
        old = self._producer
        self._withdraw(f"the producer was rebuilt ({reason})")
        with contextlib.suppress(KafkaException):
            old.purge(in_queue=True, in_flight=True, blocking=False)
        # The new client does not need the old one gone to register the id, and waiting for
        # the close first would leave the instance answering nothing for that long.
        closing = Closing(old, lambda client: _release(client, self._id), name="release-producer")
        self._producer, self._errors = self._create()
        self._doomed = None
        log.warning(
            "transactional producer rebuilt",
            extra={"transactional_id": self._id, "reason": reason},
        )
        try:
            self.init(self._init_timeout if timeout is None else timeout)
        finally:
            self._settle(closing)

    def _settle(self, closing: Closing) -> None:
        """Wait for a replaced client's close until ``release_timeout`` after it began.

        close() aborts the open transaction first, and blocks for good when the broker
        never answers that abort (measured on Tansu after a restart: it drops the connection
        of a producer whose id it forgot). Such a client is abandoned."""
        if not closing.settle(self._release_timeout, self._abandoned):
            log.error(
                "transactional producer abandoned: its close did not return",
                extra={"transactional_id": self._id, "timeout_s": self._release_timeout,
                       "abandoned": self._abandoned.tracked},
            )  # fmt: skip

    def _abandon(self, stuck: Any, holder: threading.Thread) -> None:
        """Put a fresh client in place of one blocked inside librdkafka (in ``holder``),
        without closing the stuck one (closing would block as well)."""
        self._abandoned.add(stuck, holder)
        self._withdraw("the producer was replaced after a call that did not return")
        self._producer, self._errors = self._create()
        self._doomed = None
        log.error(
            "transactional producer replaced: a call into librdkafka did not return",
            extra={"transactional_id": self._id, "abandoned": self._abandoned.tracked},
        )

    def close(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Release the client. An open transaction is not committed: the broker aborts it
        after ``transaction.timeout.ms`` or when the id is next registered (on Kafka; see
        the module docstring for Tansu)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(KafkaException):
            self._producer.flush(timeout)  # acknowledgements for the futures still open
        self._withdraw("the producer was closed")
        _release(self._producer, self._id)

    # -- internals ------------------------------------------------------------------------

    def _create(self) -> tuple[Any, ClientErrorMonitor]:
        """A client and the error monitor bound to it alone."""
        errors = ClientErrorMonitor(f"transactional producer {self._id!r}", log)
        conf: dict[str, Any] = {
            **self._settings.producer_config(idempotence=True),
            "transactional.id": self._id,
            "transaction.timeout.ms": self._timeout_ms,
            "error_cb": errors,
            "logger": LibrdkafkaLog(),
        }
        try:
            return self._factory(conf), errors
        except KafkaException as exc:
            raise KafkaConfigError(
                f"invalid configuration of transactional producer {self._id!r}: {exc.args[0].str()}"
            ) from exc

    def _check_usable(self, operation: str) -> None:
        if self._closed:
            raise TransactionError(self._id, operation, "the producer is closed", "_STATE")
        fatal = self._errors.fatal
        if fatal is not None:
            raise TransactionFencedError(self._id, operation, str(fatal), fatal.code)

    def _once(self, operation: str, call: Callable[[], Any]) -> None:
        try:
            call()
        except KafkaException as exc:
            raise self._classify(operation, exc.args[0]) from exc

    def _retrying(self, operation: str, timeout: float, call: Callable[[float], Any]) -> None:
        """Call ``call(remaining)`` until it succeeds, retrying retriable errors until
        ``timeout``; every other error is classified and raised at once."""
        self._check_usable(operation)
        deadline = time.monotonic() + timeout
        backoff = RetryPolicy(first_s=0.05, max_s=_MAX_BACKOFF, deadline_s=timeout).backoff()
        while True:
            try:
                call(max(deadline - time.monotonic(), 0.001))
                return
            except KafkaException as exc:
                err = exc.args[0]
                if not self._retriable(err):
                    raise self._classify(operation, err) from exc
                log.info(
                    "transactional operation failed, retrying",
                    extra={"transactional_id": self._id, "operation": operation,
                           "code": err.name(), "attempt": backoff.attempts + 1},
                )  # fmt: skip
                if not backoff.wait():
                    raise TransactionTimeoutError(
                        self._id,
                        operation,
                        f"still failing after {backoff.attempts + 1} attempts in {timeout:g} s: "
                        f"{err.str()}",
                        err.name(),
                    ) from exc

    @staticmethod
    def _retriable(err: Any) -> bool:
        disposed = client_disposition(err.name(), fatal=err.fatal(), retriable=err.retriable())
        return disposed is Disposition.TRANSIENT

    def _classify(self, operation: str, err: Any) -> TransactionError:
        name, reason = err.name(), err.str()
        if err.fatal() or name in GROUP_FENCING_CODES or err.code() in _ID_FORGOTTEN_CODES:
            return TransactionFencedError(self._id, operation, reason, name)
        if err.txn_requires_abort():
            return TransactionAbortableError(self._id, operation, reason, name)
        return TransactionError(self._id, operation, reason, name)

    def _serve(self, operation: str, timeout: float, *, flush: bool = False) -> None:
        try:
            if flush:
                self._producer.flush(timeout)
            else:
                self._producer.poll(timeout)
        except KafkaException as exc:
            raise self._classify(operation, exc.args[0]) from exc
        self._check_usable(operation)

    def _time_out(self, futures: Sequence[Acknowledgement], timeout: float) -> None:
        """Fail the futures still open; their records stay queued until the abort purges them."""
        topics = self._deliveries.fail(lambda topic: DeliveryTimeoutError(topic, timeout), futures)
        if topics:
            self._doomed = f"{len(topics)} records not acknowledged within {timeout:g} s"
            log.warning(
                "no acknowledgement in time; the transaction must be aborted",
                extra={"transactional_id": self._id, "timeout_s": timeout,
                       "topics": sorted({t for t in topics.values() if t})},
            )  # fmt: skip

    def _withdraw(self, reason: str) -> None:
        self._deliveries.fail(lambda topic: DeliveryError(
            topic, f"withdrawn: {reason}", code="WITHDRAWN", retriable=True))  # fmt: skip

    def _doom(self, failure: DeliveryError) -> None:
        """A record of the open transaction failed: only an abort can follow."""
        self._doomed = str(failure)


def _release(client: Any, transactional_id: str) -> None:
    """Close a client; a fenced one raises its fatal error from close() (measured on Kafka),
    after it has been released, so that error is only logged."""
    try:
        client.close()
    except KafkaException as exc:
        log.info(
            "transactional producer closed with an error",
            extra={"transactional_id": transactional_id, "code": exc.args[0].name()},
        )
