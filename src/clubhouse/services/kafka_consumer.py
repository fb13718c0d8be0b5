"""``KafkaConsumer``: confluent-kafka's consumer with manual, synchronous commits.

Two ways to read: ``subscribe`` joins a consumer group (partitions are assigned by the
group, offsets committed to it, or sent to a transaction with ``group_metadata``), ``assign``
reads given partitions without any group join (for clients that only read, such as a
response listener). ``read_to_end`` reads one partition up to librdkafka's end-of-partition
event, not to a watermark: on Tansu the watermarks are unreliable (docs/architecture.md,
"Tansu and Apache Kafka").

Every consumer reads ``read_committed`` unless told otherwise: aborted transactions are
skipped and open ones wait until they end.

A ``RebalanceListener`` runs inside librdkafka's rebalance callbacks. An exception from it is
logged with the partitions and raised from that same ``poll`` as RebalanceListenerError,
once the callback has returned: raising through librdkafka's callback would skip the
assignment it was about to make and leave the group membership half-done.

Errors: a fatal client error raises FatalKafkaError; errors that retrying cannot fix
(authorization, ``auto.offset.reset=error``) raise ConsumeError; everything else (a broker
restarting, a topic not created yet) is logged, throttled, and polling carries on while
librdkafka reconnects.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from clubhouse.retry import RetryPolicy
from clubhouse.services.error_policy import Disposition, client_disposition
from clubhouse.services.kafka_errors import (
    CommitError,
    ConsumeError,
    FatalKafkaError,
    KafkaConfigError,
    ReadToEndTimeoutError,
    RebalanceListenerError,
)
from clubhouse.services.kafka_events import ClientErrorMonitor, LibrdkafkaLog
from clubhouse.services.kafka_protocol import ConsumedRecord, RebalanceListener, TopicOffset
from clubhouse.services.kafka_settings import AutoOffsetReset, IsolationLevel, KafkaSettings

log = logging.getLogger(__name__)

ConsumerFactory = Callable[[dict[str, Any]], Any]  # confluent_kafka.Consumer or a stand-in

# A partition between leaders: the answer comes once the election is over.
_LEADER_MOVING = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,  # a replica that has not heard of the topic yet
    }
)


class KafkaConsumer:
    """Reads records; nothing is committed unless ``commit`` is called."""

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        group_id: str | None = None,
        auto_offset_reset: AutoOffsetReset = "earliest",
        isolation_level: IsolationLevel = "read_committed",
        partition_eof: bool = False,
        consumer_factory: ConsumerFactory = Consumer,
    ) -> None:
        """``group_id=None`` makes a reader that can only ``assign``, never commit.

        ``partition_eof`` turns on end-of-partition events, which ``read_to_end`` needs.
        """
        self._in_group = group_id is not None
        # librdkafka insists on a group id even for assign(); this one is never joined.
        self._group_id = group_id or f"{settings.client_id}-reader-{uuid.uuid4().hex}"
        self._errors = ClientErrorMonitor(f"consumer {settings.client_id!r}", log)
        self._assignment: set[tuple[str, int]] = set()
        self._buffer: deque[ConsumedRecord] = deque()
        self._closed = False
        self._partition_eof = partition_eof
        self._listener: RebalanceListener | None = None
        self._listener_error: RebalanceListenerError | None = None
        conf: dict[str, Any] = {
            **settings.consumer_config(
                group_id=self._group_id,
                auto_offset_reset=auto_offset_reset,
                isolation_level=isolation_level,
                partition_eof=partition_eof,
            ),
            "error_cb": self._errors,
            "logger": LibrdkafkaLog(),
        }
        try:
            self._consumer = consumer_factory(conf)
        except (KafkaException, ValueError) as exc:
            raise KafkaConfigError(f"invalid consumer configuration: {exc}") from exc

    @property
    def group_id(self) -> str | None:
        """The consumer group, or None when the consumer reads without one."""
        return self._group_id if self._in_group else None

    def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        """Join the group for ``topics``; the assignment arrives during later polls.

        ``listener`` hears of every assignment, revocation and loss, from inside ``poll``.
        """
        if not self._in_group:
            raise KafkaConfigError("subscribe() needs a group_id; this consumer can only assign()")
        self._listener = listener
        self._consumer.subscribe(
            list(topics),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        log.info("subscribed", extra={"group_id": self._group_id, "topics": list(topics)})

    def assign(self, partitions: Sequence[TopicOffset]) -> None:
        """Read exactly these partitions from these offsets (``OFFSET_*`` constants allowed)."""
        self._consumer.assign([TopicPartition(p.topic, p.partition, p.offset) for p in partitions])
        self._assignment = {(p.topic, p.partition) for p in partitions}

    def group_metadata(self) -> object:
        """The group membership (member id, generation) to hand to a transaction's
        ``send_offsets``, so that the broker can refuse it once the group has moved on."""
        if not self._in_group:
            raise KafkaConfigError("this consumer has no group_id, so it has no group metadata")
        return self._call(self._consumer.consumer_group_metadata)

    def seek(self, offsets: Sequence[TopicOffset]) -> None:
        """Move assigned partitions to these offsets: the next poll reads from there.

        Used after an aborted transaction, to read its input again. Records of these
        partitions already fetched (or held back by ``wait_for_assignment``) are dropped.
        """
        moved = {(o.topic, o.partition) for o in offsets}
        not_assigned = sorted(moved - self._assignment)
        if not_assigned:
            raise ConsumeError(
                f"cannot seek partitions this consumer is not assigned: {not_assigned}",
                "_STATE",
                topic=not_assigned[0][0],
            )
        self._buffer = deque(r for r in self._buffer if (r.topic, r.partition) not in moved)
        for o in offsets:
            try:
                self._consumer.seek(TopicPartition(o.topic, o.partition, o.offset))
            except KafkaException as exc:
                err = exc.args[0]
                raise ConsumeError(
                    f"seek of partition {o.partition} to offset {o.offset}: {err.str()}",
                    err.name(),
                    topic=o.topic,
                ) from exc

    def read_to_end(
        self,
        partition: TopicOffset,
        timeout: float,
        on_record: Callable[[ConsumedRecord], None],
        *,
        idle_timeout: float = 20.0,
    ) -> int:
        """Assign ``partition`` alone from its offset and hand each record to ``on_record``
        until the end-of-partition event; returns the next offset to read there.

        The end is what librdkafka's end-of-partition event says, which under
        read_committed is the last stable offset: records of open transactions are not
        read, aborted ones are skipped. The partition stays assigned afterwards. Raises
        ReadToEndTimeoutError, naming how far it got, when the end is not reached within
        ``timeout`` seconds, or when nothing at all arrives for ``idle_timeout`` seconds (a
        topic that no longer exists, say, after a dev broker lost it in a restart). Needs
        ``partition_eof=True`` and a consumer without a group.
        """
        if not self._partition_eof:
            raise KafkaConfigError("read_to_end() needs a consumer made with partition_eof=True")
        if self._in_group:
            raise KafkaConfigError("read_to_end() needs a consumer without a group_id")
        where = (partition.topic, partition.partition)
        self._buffer.clear()
        self.assign([partition])
        deadline = time.monotonic() + timeout
        heard = time.monotonic()
        reached, count = partition.offset, 0
        while (remaining := deadline - time.monotonic()) > 0:
            if time.monotonic() - heard > idle_timeout:
                timeout = idle_timeout
                break
            msg = self._call(self._consumer.poll, min(remaining, 0.5))
            self._errors.raise_if_fatal()
            if msg is None or (msg.topic(), msg.partition()) != where:
                continue
            err = msg.error()
            if err is None or err.code() == KafkaError._PARTITION_EOF:
                heard = time.monotonic()
            if err is not None and err.code() == KafkaError._PARTITION_EOF:
                return int(msg.offset())
            record = self._record_or_raise(msg)
            if record is not None:
                on_record(record)
                reached, count = record.offset + 1, count + 1
        raise ReadToEndTimeoutError(
            partition.topic,
            partition.partition,
            start=partition.offset,
            reached=reached,
            records=count,
            timeout=timeout,
        )

    def assignment(self) -> list[tuple[str, int]]:
        """The partitions this consumer currently reads, as (topic, partition)."""
        return sorted(self._assignment)

    def wait_for_assignment(self, timeout: float) -> list[tuple[str, int]]:
        """Poll until the group has assigned partitions; records seen meanwhile are kept.

        Returns the assignment, empty if none arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while not self._assignment and time.monotonic() < deadline:
            record = self._poll_once(min(0.1, max(0.0, deadline - time.monotonic())))
            if record is not None:
                self._buffer.append(record)
        return self.assignment()

    def poll(self, timeout: float) -> ConsumedRecord | None:
        """The next record, or None if none arrived within ``timeout`` seconds."""
        if self._buffer:
            return self._buffer.popleft()
        deadline = time.monotonic() + timeout
        while True:
            record = self._poll_once(max(0.0, deadline - time.monotonic()))
            if record is not None or time.monotonic() >= deadline:
                return record

    def poll_batch(self, max_records: int, timeout: float) -> list[ConsumedRecord]:
        """Up to ``max_records`` records, waiting at most ``timeout`` seconds for the first.

        librdkafka's ``consume(n, timeout)`` returns only once it has ``n`` messages or the
        timeout has passed (measured on Tansu: ``consume(500, 0.5)`` for one waiting record
        took 500 ms every time), so a lone record would cost the whole timeout. Hence one
        wait for the first message, then a non-blocking take of whatever has already arrived.
        """
        out: list[ConsumedRecord] = []
        while self._buffer and len(out) < max_records:
            out.append(self._buffer.popleft())
        if len(out) == max_records:
            return out
        if not out:
            deadline = time.monotonic() + timeout
            while not out:
                remaining = max(0.0, deadline - time.monotonic())
                messages = self._call(self._consumer.consume, 1, remaining)
                if not messages:
                    break  # the timeout passed with nothing to read
                # An error or end-of-partition event is not a record: keep waiting for one.
                out.extend(r for m in messages if (r := self._record_or_raise(m)) is not None)
                if not out and remaining <= 0:
                    break
        if out and len(out) < max_records:
            for msg in self._call(self._consumer.consume, max_records - len(out), 0):
                record = self._record_or_raise(msg)
                if record is not None:
                    out.append(record)
        self._errors.raise_if_fatal()
        if self._listener_error is not None:
            self._buffer.extendleft(reversed(out))  # handed out by the next poll instead
            self._raise_listener_error(None)
        return out

    def end_offsets(self, topic: str, timeout: float) -> list[TopicOffset]:
        """Every partition of ``topic`` at its end: the offset its next record will get.

        ``assign(end_offsets(...))`` reads what is produced from now on. Tansu 0.6 reports
        the end of a partition as its last *batch's* base offset + 1 (measured), so on the
        dev broker such a reader may first see the tail of the last batch again; it never
        misses a newer record. A partition whose leader is still being elected (on Kafka, a
        topic just created or a broker just restarted) is asked again until ``timeout``.
        """
        deadline = time.monotonic() + timeout
        metadata = self._call(self._consumer.list_topics, topic, timeout)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            code = found.error.name() if found is not None else "UNKNOWN_TOPIC_OR_PART"
            raise ConsumeError("the topic does not exist", code, topic=topic)
        return [
            TopicOffset(topic, partition, self._high_watermark(topic, partition, deadline))
            for partition in sorted(found.partitions)
        ]

    def _high_watermark(self, topic: str, partition: int, deadline: float) -> int:
        policy = RetryPolicy(first_s=0.05, max_s=0.5, deadline_s=deadline - time.monotonic())
        backoff = policy.backoff()
        while True:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                _low, high = self._consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), remaining
                )
                return int(high)
            except KafkaException as exc:
                # A leader moving is transient; anything else, or no time left, is not.
                if exc.args[0].code() not in _LEADER_MOVING or not backoff.wait():
                    raise self._as_error(exc) from exc

    def commit(self, offsets: Sequence[TopicOffset]) -> None:
        """Commit these offsets (each the next offset to read) and wait for the broker."""
        if not offsets:
            return
        if not self._in_group:
            raise KafkaConfigError("this consumer has no group_id, so it cannot commit offsets")
        topics = [o.topic for o in offsets]
        try:
            result = self._consumer.commit(
                offsets=[TopicPartition(o.topic, o.partition, o.offset) for o in offsets],
                asynchronous=False,
            )
        except KafkaException as exc:
            err = exc.args[0]
            if err.fatal():
                raise FatalKafkaError("consumer", err.str(), err.name()) from exc
            raise CommitError(err.str(), err.name(), topics=topics) from exc
        for tp in result or ():
            if tp.error is not None:
                raise CommitError(tp.error.str(), tp.error.name(), topics=[tp.topic])

    def committed(self, partitions: Sequence[tuple[str, int]], timeout: float) -> list[TopicOffset]:
        """The group's committed offsets; a partition without one has a negative offset."""
        try:
            result = self._consumer.committed(
                [TopicPartition(t, p) for t, p in partitions], timeout=timeout
            )
        except KafkaException as exc:
            err = exc.args[0]
            raise CommitError(
                f"reading committed offsets: {err.str()}",
                err.name(),
                topics=[t for t, _ in partitions],
            ) from exc
        return [TopicOffset(tp.topic, tp.partition, tp.offset) for tp in result]

    def close(self) -> None:
        """Leave the group (so others take over at once) and release the client."""
        if self._closed:
            return
        self._closed = True
        self._consumer.close()

    # -- internals ------------------------------------------------------------------------

    def _poll_once(self, timeout: float) -> ConsumedRecord | None:
        msg = self._call(self._consumer.poll, timeout)
        self._errors.raise_if_fatal()
        record = None if msg is None else self._record_or_raise(msg)
        self._raise_listener_error(record)
        return record

    def _raise_listener_error(self, record: ConsumedRecord | None) -> None:
        """Raise what a listener raised during the last poll, keeping its record for later."""
        error, self._listener_error = self._listener_error, None
        if error is None:
            return
        if record is not None:
            self._buffer.append(record)
        raise error

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        """Call a polling method with librdkafka's exceptions turned into ours."""
        try:
            return method(*args)
        except KafkaException as exc:
            raise self._as_error(exc) from exc

    @staticmethod
    def _as_error(exc: KafkaException) -> ConsumeError | FatalKafkaError:
        err = exc.args[0]
        if err.fatal():
            return FatalKafkaError("consumer", err.str(), err.name())
        return ConsumeError(err.str(), err.name())

    def _record_or_raise(self, msg: Any) -> ConsumedRecord | None:
        err = msg.error()
        if err is None:
            ts_type, ts = msg.timestamp()
            return ConsumedRecord(
                topic=msg.topic(),
                partition=msg.partition(),
                offset=msg.offset(),
                key=msg.key(),
                value=msg.value(),
                headers=tuple(msg.headers() or ()),
                timestamp_ms=ts if ts_type != 0 else None,  # 0: TIMESTAMP_NOT_AVAILABLE
            )
        if err.fatal():
            raise FatalKafkaError("consumer", err.str(), err.name())
        if client_disposition(err.name(), fatal=False) is not Disposition.TRANSIENT:
            raise ConsumeError(err.str(), err.name(), topic=msg.topic())
        if err.code() != KafkaError._PARTITION_EOF:
            self._errors.transient(err.name(), err.str(), topic=msg.topic())
        return None

    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        self._assignment |= {(p.topic, p.partition) for p in partitions}
        log.info(
            "partitions assigned",
            extra={"group_id": self._group_id, "partitions": sorted(self._assignment)},
        )
        self._tell("on_assigned", partitions)

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        self._forget("partitions revoked", partitions)
        self._tell("on_revoked", partitions)

    def _on_lost(self, _consumer: Any, partitions: list[Any]) -> None:
        self._forget("partitions lost", partitions)
        self._tell("on_lost", partitions)

    def _forget(self, what: str, partitions: list[Any]) -> None:
        self._assignment -= {(p.topic, p.partition) for p in partitions}
        log.info(
            what,
            extra={
                "group_id": self._group_id,
                "partitions": [(p.topic, p.partition) for p in partitions],
            },
        )

    def _tell(self, event: str, partitions: list[Any]) -> None:
        """Call the listener; never let its exception through librdkafka's callback."""
        if self._listener is None:
            return
        pairs = [(p.topic, p.partition) for p in partitions]
        try:
            getattr(self._listener, event)(pairs)
        except Exception as exc:  # kept, logged, and raised from poll() once this returns
            log.exception(
                "rebalance listener failed",
                extra={"group_id": self._group_id, "event": event, "partitions": pairs},
            )
            error = RebalanceListenerError(event, pairs, f"{type(exc).__name__}: {exc}")
            error.__cause__ = exc
            if self._listener_error is None:  # the first failure is the one to report
                self._listener_error = error
