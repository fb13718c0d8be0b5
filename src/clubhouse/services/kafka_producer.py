"""``KafkaProducer``: confluent-kafka's producer with idempotence on and acknowledgements
surfaced as futures, typed errors, and a bounded wait.

Delivery callbacks run inside ``poll``/``flush``; every method here that waits serves them,
so a caller that only uses ``send``/``produce_batch``/``flush`` never has to poll itself.

When a wait for acknowledgements times out, every record still queued is withdrawn: its
future fails with ``DeliveryTimeoutError`` and it will not be delivered later behind the
caller's back (a record already in flight may still have been written). An idempotent
producer is then rebuilt, because of what was measured on Tansu: after a broker restart
the broker no longer knows the producer id, and librdkafka answers UNKNOWN_PRODUCER_ID by
bumping the epoch of that same id forever, never delivering again. A fresh instance asks
for a new id and works at once. On real Kafka the rebuild only costs a new producer id.

The client being replaced is closed in a thread of its own, waited for at most
``release_timeout``: one whose close does not return is abandoned, within a bound
(``max_abandoned``; see ``kafka_abandoned``). Every client instance has its own error
monitor, so a late fatal error of a replaced client never marks the one in its place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from confluent_kafka import KafkaException, Producer

from clubhouse.services.deliveries import Deliveries, Delivery
from clubhouse.services.kafka_abandoned import DEFAULT_LIMIT, AbandonedClients, release_bounded
from clubhouse.services.kafka_errors import (
    BatchDeliveryError,
    DeliveryError,
    DeliveryTimeoutError,
    FatalKafkaError,
    KafkaClientError,
    KafkaConfigError,
    ProduceError,
)
from clubhouse.services.kafka_events import ClientErrorMonitor, LibrdkafkaLog
from clubhouse.services.kafka_protocol import (
    Acknowledgement,
    DeliveredRecord,
    Header,
    OutboundRecord,
)
from clubhouse.services.kafka_settings import KafkaSettings

log = logging.getLogger(__name__)

ProducerFactory = Callable[[dict[str, Any]], Any]  # confluent_kafka.Producer or a stand-in

DEFAULT_TIMEOUT = 30.0
_WAIT_SLICE = 0.1  # flush in slices so that our own futures are checked between them
_RELEASE_TIMEOUT = 5.0  # a replaced client's close; its queue was purged, so it is quick


class KafkaProducer:
    """Produces records and waits for the broker's acknowledgements.

    Thread-safe as far as confluent-kafka is; the futures resolve in whichever thread is
    waiting (``send``, ``produce_batch``, ``flush`` or ``poll``).
    """

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        idempotence: bool = True,
        why_not_idempotent: str | None = None,
        rebuild_after_timeout: bool = True,
        enqueue_timeout: float = 5.0,
        producer_factory: ProducerFactory = Producer,
        release_timeout: float = _RELEASE_TIMEOUT,
        max_abandoned: int = DEFAULT_LIMIT,
    ) -> None:
        self._settings = settings
        self._idempotent = idempotence
        self._rebuild_after_timeout = rebuild_after_timeout
        self._enqueue_timeout = enqueue_timeout
        self._factory = producer_factory
        self._release_timeout = release_timeout
        self._abandoned = AbandonedClients(f"producer {settings.client_id!r}", limit=max_abandoned)
        self._deliveries = Deliveries(delivery_outcome)
        self._closed = False
        self._producer, self._errors = self._create()
        where = {"client_id": settings.client_id, "bootstrap": settings.bootstrap_servers}
        if idempotence:
            log.info("Kafka producer ready, idempotence on", extra=where)
        elif why_not_idempotent:
            # The caller knows why duplicates are harmless; that is not worth a warning.
            log.info("Kafka producer ready, idempotence off", extra={**where,
                     "reason": why_not_idempotent})  # fmt: skip
        else:
            log.warning(
                "Kafka producer ready with idempotence OFF: a retried send can write a "
                "record twice or out of order",
                extra=where,
            )

    @property
    def abandoned(self) -> AbandonedClients:
        """Replaced clients whose close did not return, bounded."""
        return self._abandoned

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[Header] = (),
        *,
        partition: int | None = None,
    ) -> Acknowledgement:
        """Queue one record; the future resolves when the broker acknowledges it.

        ``partition=None`` leaves the choice to the partitioner (murmur2 of the key).

        Raises ProduceError when the record cannot be queued, FatalKafkaError when the
        client is beyond use (see ``rebuild``).
        """
        self._check_usable(topic)
        future, on_delivery = self._deliveries.track(topic)
        try:
            self._enqueue(topic, key, value, headers, on_delivery=on_delivery, partition=partition)
        except BaseException:
            self._deliveries.forget(future)
            raise
        self._serve(0)  # acknowledgements of earlier records
        return future

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[Header] = (),
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> DeliveredRecord:
        """Produce one record and wait for its acknowledgement; DeliveryError if none."""
        future = self.produce(topic, key, value, headers)
        self._wait([future], timeout)
        return future.result()

    def produce_batch(
        self, records: Iterable[OutboundRecord], *, timeout: float = DEFAULT_TIMEOUT
    ) -> list[DeliveredRecord]:
        """Produce every record, return once all are acknowledged, in the order given.

        If any record fails, BatchDeliveryError lists every failure by its index; the others
        may have been written. Records are queued in order, so same-partition order is kept.
        A record that can never be queued (too large, say: a permanent ProduceError) fails
        alone and the rest are still sent; a transient ProduceError (the queue stayed full)
        is raised, with the records before it still queued. A record with a ``partition``
        attribute that is not None goes to that partition.
        """
        futures = [self._produce_or_fail(r) for r in records]
        self._wait(futures, timeout)
        raise_failures(futures)
        return [f.result() for f in futures]

    def _produce_or_fail(self, record: OutboundRecord) -> Acknowledgement:
        try:
            return self.produce(
                record.topic,
                record.key,
                record.value,
                record.headers,
                partition=getattr(record, "partition", None),
            )
        except ProduceError as exc:
            if exc.permanent_reason is None or exc.code is None:
                raise
            return Delivery(record.topic, DeliveryError(record.topic, exc.reason, code=exc.code))

    def poll(self, timeout: float = 0.0) -> int:
        """Serve delivery callbacks; returns how many were served."""
        return self._serve(timeout)

    def flush(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until every queued record is acknowledged; failures raise BatchDeliveryError."""
        futures = self._deliveries.futures()
        self._wait(futures, timeout)
        raise_failures(futures)

    def rebuild(self, reason: str) -> None:
        """Withdraw everything queued and replace the client instance (after a fatal error)."""
        self._replace_client(
            lambda topic: DeliveryError(
                topic,
                f"withdrawn: the producer was rebuilt ({reason})",
                code="WITHDRAWN",
                retriable=True,
            )
        )
        log.warning(
            "Kafka producer rebuilt",
            extra={"client_id": self._settings.client_id, "reason": reason},
        )

    def close(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Flush for up to ``timeout`` seconds, then release the client.

        Records not acknowledged by then are withdrawn and reported as BatchDeliveryError,
        after the client has been released.
        """
        if self._closed:
            return
        try:
            self.flush(timeout)
        finally:
            self._closed = True
            self._producer.close()

    # -- internals ------------------------------------------------------------------------

    def _create(self) -> tuple[Any, ClientErrorMonitor]:
        """A client and the error monitor bound to it alone."""
        errors = ClientErrorMonitor(f"producer {self._settings.client_id!r}", log)
        conf: dict[str, Any] = {
            **self._settings.producer_config(idempotence=self._idempotent),
            "error_cb": errors,
            # librdkafka's own log lines go through logging instead of straight to stderr.
            "logger": LibrdkafkaLog(),
        }
        try:
            return self._factory(conf), errors
        except KafkaException as exc:
            raise KafkaConfigError(f"invalid producer configuration: {exc.args[0].str()}") from exc

    def _check_usable(self, topic: str) -> None:
        if self._closed:
            raise ProduceError(topic, "the producer is closed")
        self._errors.raise_if_fatal()

    def _enqueue(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[Header],
        *,
        on_delivery: Callable[[Any, Any], None],
        partition: int | None,
    ) -> None:
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
        except KafkaException as exc:
            err = exc.args[0]
            if err.fatal():
                raise FatalKafkaError("producer", err.str(), err.name()) from exc
            raise ProduceError(topic, err.str(), err.name()) from exc

    def _wait(self, futures: Sequence[Acknowledgement], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(f.done() for f in futures):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._on_timeout(timeout)
                return
            self._serve(min(remaining, _WAIT_SLICE), flush=True)

    def _serve(self, timeout: float, *, flush: bool = False) -> int:
        """poll() or flush() the client, with its errors turned into ours.

        Measured: once librdkafka has raised a fatal error (e.g. UNKNOWN_PRODUCER_ID after
        in-flight records were purged), poll and flush raise it as a KafkaException.
        """
        try:
            served = self._producer.flush(timeout) if flush else self._producer.poll(timeout)
        except KafkaException as exc:
            err = exc.args[0]
            if err.fatal():
                raise FatalKafkaError("producer", err.str(), err.name()) from exc
            raise KafkaClientError(
                f"the producer failed while serving acknowledgements: {err.str()} [{err.name()}]"
            ) from exc
        self._errors.raise_if_fatal()
        return int(served)

    def _on_timeout(self, timeout: float) -> None:
        topics = self._deliveries.topics()
        log.warning(
            "no acknowledgement in time; withdrawing queued records",
            extra={"timeout_s": timeout, "topics": topics, "idempotent": self._idempotent},
        )
        if self._idempotent and self._rebuild_after_timeout:
            self._replace_client(lambda topic: DeliveryTimeoutError(topic, timeout))
            log.info("idempotent producer rebuilt after a delivery timeout")
        else:
            self._withdraw(self._producer, lambda topic: DeliveryTimeoutError(topic, timeout))

    def _replace_client(self, error: Callable[[str], DeliveryError]) -> None:
        old = self._producer
        self._withdraw(old, error)
        self._producer, self._errors = self._create()
        # Its queue is purged, so close has nothing to flush; yet it can still block.
        released = release_bounded(
            old, _close, timeout=self._release_timeout, abandoned=self._abandoned,
            name="release-producer",
        )  # fmt: skip
        if not released:
            log.error(
                "Kafka producer abandoned: its close did not return",
                extra={"client_id": self._settings.client_id,
                       "timeout_s": self._release_timeout,
                       "abandoned": self._abandoned.tracked},
            )  # fmt: skip

    def _withdraw(self, producer: Any, error: Callable[[str], DeliveryError]) -> None:
        self._deliveries.fail(error)
        producer.purge(in_queue=True, in_flight=True, blocking=False)
        producer.poll(0)  # the purged records' callbacks find their futures already failed


def _close(client: Any) -> None:
    """Close a replaced client; an error it raises on the way out changes nothing."""
    try:
        client.close()
    except KafkaException as exc:
        log.info("replaced Kafka producer closed with an error",
                 extra={"code": exc.args[0].name()})  # fmt: skip


def enqueue(
    client: Any,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[Header],
    *,
    on_delivery: Callable[[Any, Any], None],
    partition: int | None,
    enqueue_timeout: float,
) -> None:
    """Hand one record to librdkafka, serving acknowledgements while its queue is full.

    Raises ProduceError when the queue stays full for ``enqueue_timeout`` seconds; a
    KafkaException from librdkafka is left for the caller to classify.
    """
    extra: dict[str, Any] = {} if partition is None else {"partition": partition}
    deadline: float | None = None  # set once the queue is first found full
    while True:
        try:
            client.produce(
                topic,
                value=value,
                key=key,
                headers=list(headers) or None,
                on_delivery=on_delivery,
                **extra,
            )
            return
        except BufferError:
            # The local queue is full: serving acknowledgements is what frees it.
            if deadline is None:
                deadline = time.monotonic() + enqueue_timeout
            elif time.monotonic() >= deadline:
                raise ProduceError(
                    topic,
                    f"the local queue stayed full for {enqueue_timeout:g} s; "
                    "the broker is not acknowledging fast enough (or is unreachable)",
                    "QUEUE_FULL",
                ) from None
            client.poll(0.05)


def delivery_outcome(topic: str, err: Any, msg: Any) -> DeliveredRecord | DeliveryError:
    """What a delivery callback's ``(err, msg)`` means: where the record went, or why not."""
    if err is None:
        return DeliveredRecord(msg.topic(), msg.partition(), msg.offset())
    partition = msg.partition() if msg is not None else None
    if partition is not None and partition < 0:
        partition = None  # never assigned to a partition (e.g. purged while queued)
    return DeliveryError(
        topic, err.str(), code=err.name(), partition=partition, retriable=err.retriable()
    )


def raise_failures(futures: Sequence[Acknowledgement]) -> None:
    failed = {
        i: e
        for i, f in enumerate(futures)
        if f.done() and isinstance(e := f.exception(), DeliveryError)
    }
    if failed:
        raise BatchDeliveryError(failed, len(futures))
