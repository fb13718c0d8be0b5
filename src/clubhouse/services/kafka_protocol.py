"""The protocol interfaces Clubhouse depends on, so that tests and other backends can stand in.

The schema-registry section is used by registration, the service and the schema tools; the
Kafka section by the service and the client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

# Re-exported (mypy needs the alias): callers of the protocol import the level from here.
from clubhouse.avro.compatibility import CompatibilityLevel as CompatibilityLevel  # noqa: PLC0414

# --- Schema registry ------------------------------------------------------------------------

# The seven levels have one home, the compatibility rules; the protocol speaks the same type.
COMPATIBILITY_LEVELS: tuple[CompatibilityLevel, ...] = tuple(CompatibilityLevel)


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """One version of a schema under a subject, as the registry holds it."""

    subject: str
    version: int
    schema_id: int
    schema: str  # the Avro schema as JSON text


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The registry's verdict on a candidate schema, with its reasons when incompatible."""

    is_compatible: bool
    messages: tuple[str, ...] = field(default=())


@runtime_checkable
class SchemaRegistryProtocol(Protocol):
    """What Clubhouse needs from a Confluent-compatible schema registry.

    Schemas are Avro JSON text. Methods raise ``clubhouse.services.registry_errors`` types.
    """

    def register(self, subject: str, schema: str) -> RegisteredSchema:
        """Register ``schema`` under ``subject`` (idempotent: a live one keeps its id and
        version); the version is 0 when the registry does not return it."""
        ...

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        """The version of ``subject`` holding ``schema``, or ``None``."""
        ...

    def get_schema(self, schema_id: int) -> str:
        """The schema text registered under the global ``schema_id``."""
        ...

    def get_latest(self, subject: str) -> RegisteredSchema | None:
        """The latest live version of ``subject``, or ``None`` when it has none."""
        ...

    def get_version(self, subject: str, version: int) -> RegisteredSchema:
        """One version of ``subject``."""
        ...

    def get_versions(self, subject: str) -> list[int]:
        """The live version numbers of ``subject`` (empty when the subject is unknown)."""
        ...

    def get_latest_schemas(self, subject_prefix: str) -> list[RegisteredSchema]:
        """The latest live version of every subject starting with ``subject_prefix``."""
        ...

    def get_subjects(self) -> list[str]:
        """Every subject with at least one live version."""
        ...

    def get_compatibility(self, subject: str | None = None) -> CompatibilityLevel:
        """The effective level of ``subject`` (falling back to global), or the global level."""
        ...

    def set_compatibility(self, level: CompatibilityLevel, subject: str | None = None) -> None:
        """Set the level of ``subject``, or the global level."""
        ...

    def test_compatibility(
        self, subject: str, schema: str, version: int | Literal["latest", "all"] = "latest"
    ) -> CompatibilityResult:
        """Whether ``schema`` may be registered under ``subject`` at its level."""
        ...


# --- Kafka ----------------------------------------------------------------------------------
# Records are plain bytes here: serialization belongs to ``messaging``. A commit offset is,
# as in Kafka, the offset of the *next* record to read.

Header = tuple[str, bytes]

OFFSET_BEGINNING = -2  # librdkafka's logical offsets, for ``assign``
OFFSET_END = -1
OFFSET_STORED = -1000  # the group's committed offset, or ``auto.offset.reset`` without one


@dataclass(frozen=True, slots=True)
class TopicOffset:
    """A position in one partition."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class DeliveredRecord:
    """Where the broker stored an acknowledged record."""

    topic: str
    partition: int
    offset: int


class Acknowledgement(Protocol):
    """The broker's answer for one produced record, once the producer has served it."""

    def done(self) -> bool:
        """Whether the record was acknowledged or failed."""
        ...

    def result(self) -> DeliveredRecord:
        """Where the record went; its DeliveryError is raised if it failed."""
        ...

    def exception(self) -> BaseException | None:
        """Why the record failed; None once delivered."""
        ...


@dataclass(frozen=True, slots=True)
class ConsumedRecord:
    """One record as read from a partition."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()
    timestamp_ms: int | None = None

    @property
    def source(self) -> str:
        """``topic/partition/offset``, for logs and dead-letter headers."""
        return f"{self.topic}/{self.partition}/{self.offset}"

    def next_offset(self) -> TopicOffset:
        """The offset to commit once this record is fully handled."""
        return TopicOffset(self.topic, self.partition, self.offset + 1)


class OutboundRecord(Protocol):
    """Anything with these attributes can be produced: ``ProducerRecord`` below, or the
    messaging layer's ``Outbound``, which also names the command it answers."""

    @property
    def topic(self) -> str:
        """The topic to produce to."""
        ...

    @property
    def key(self) -> bytes | None:
        """The message key, or None for none."""
        ...

    @property
    def value(self) -> bytes | None:
        """The message value, or None for a tombstone."""
        ...

    @property
    def headers(self) -> Sequence[Header]:
        """The message headers."""
        ...


@dataclass(frozen=True, slots=True)
class ProducerRecord:
    """A ready-made ``OutboundRecord``."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Sequence[Header] = ()


@runtime_checkable
class KafkaProducerProtocol(Protocol):
    """Produces records and reports when the broker has acknowledged them.

    Delivery failures raise ``clubhouse.services.kafka_errors.DeliveryError`` (naming topic and
    reason); only a fatal client error is beyond retrying.
    """

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[Header] = (),
        *,
        partition: int | None = None,
    ) -> Acknowledgement:
        """Queue one record (to ``partition``, or the key's); the future resolves when the
        broker acknowledges it."""
        ...

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[Header] = (),
        *,
        timeout: float = ...,
    ) -> DeliveredRecord:
        """Produce one record and wait for its acknowledgement."""
        ...

    def produce_batch(
        self, records: Iterable[OutboundRecord], *, timeout: float = ...
    ) -> list[DeliveredRecord]:
        """Produce every record and return once the broker has acknowledged all of them."""
        ...

    def flush(self, timeout: float = ...) -> None:
        """Wait until every queued record is acknowledged."""
        ...

    def rebuild(self, reason: str) -> None:
        """Withdraw what is queued and start a fresh client (a new idempotent producer id)."""
        ...

    def close(self, timeout: float = ...) -> None:
        """Flush what can be flushed within ``timeout``, then release the client."""
        ...


@runtime_checkable
class TransactionalProducerProtocol(Protocol):
    """Produces records in transactions, with consumed offsets committed in the same one.

    Errors are ``clubhouse.services.kafka_errors.TransactionError`` subclasses: abortable
    (abort, then the batch may be retried), fenced (``rebuild``, partitions possibly lost),
    timeout (retriable errors until the timeout).
    """

    def init(self, timeout: float) -> None:
        """Register the transactional id with the broker, fencing older instances of it."""
        ...

    def begin(self) -> None:
        """Start a transaction."""
        ...

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[Header] = (),
        *,
        partition: int | None = None,
    ) -> Acknowledgement:
        """Queue one record in the current transaction."""
        ...

    def wait(
        self, futures: Sequence[Acknowledgement], timeout: float
    ) -> list[DeliveredRecord]:
        """Serve acknowledgements until every future resolves; failures raise together."""
        ...

    def send_offsets(
        self, offsets: Sequence[TopicOffset], group_metadata: object, timeout: float
    ) -> None:
        """Add the consumer's next offsets to the transaction."""
        ...

    def commit(self, timeout: float) -> None:
        """Commit the transaction: its records and offsets become visible together."""
        ...

    def abort(self, timeout: float) -> None:
        """Abort the transaction: its records are never read by read_committed consumers."""
        ...

    def rebuild(self, reason: str) -> None:
        """Replace the client with a fresh one under the same transactional id."""
        ...

    def close(self, timeout: float) -> None:
        """Release the client; an open transaction is aborted by the broker later."""
        ...


class RebalanceListener(Protocol):
    """Told of the group's partition changes, from inside the consumer's ``poll``.

    Each method gets (topic, partition) pairs and runs after the consumer's own bookkeeping.
    ``on_lost`` means the partitions were taken without a clean revoke (session timeout):
    another member may already be processing them.
    """

    def on_assigned(self, partitions: list[tuple[str, int]]) -> None:
        """These partitions are now this member's."""
        ...

    def on_revoked(self, partitions: list[tuple[str, int]]) -> None:
        """These partitions are being handed over; finish (commit) their work now."""
        ...

    def on_lost(self, partitions: list[tuple[str, int]]) -> None:
        """These partitions were taken away; their work in progress may not be committed."""
        ...


@runtime_checkable
class KafkaConsumerProtocol(Protocol):
    """Reads records; offsets are committed only when the caller says so."""

    def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        """Join the consumer group for ``topics``; partitions arrive with the assignment."""
        ...

    def group_metadata(self) -> object:
        """The group's membership (generation), for ``send_offsets`` of a transaction."""
        ...

    def seek(self, offsets: Sequence[TopicOffset]) -> None:
        """Move assigned partitions back (or on) to these offsets, e.g. after an abort."""
        ...

    def read_to_end(
        self,
        partition: TopicOffset,
        timeout: float,
        on_record: Callable[[ConsumedRecord], None],
    ) -> int:
        """Read one partition from an offset to its end; the next offset there."""
        ...

    def assign(self, partitions: Sequence[TopicOffset]) -> None:
        """Read exactly these partitions from these offsets, without a group join."""
        ...

    def poll(self, timeout: float) -> ConsumedRecord | None:
        """The next record, or None when none arrived within ``timeout`` seconds."""
        ...

    def poll_batch(self, max_records: int, timeout: float) -> list[ConsumedRecord]:
        """Up to ``max_records`` records, waiting at most ``timeout`` seconds for the first."""
        ...

    def end_offsets(self, topic: str, timeout: float) -> list[TopicOffset]:
        """Every partition of ``topic`` at the offset its next record will get."""
        ...

    def commit(self, offsets: Sequence[TopicOffset]) -> None:
        """Commit these offsets synchronously."""
        ...

    def assignment(self) -> list[tuple[str, int]]:
        """The partitions this consumer reads now, as (topic, partition)."""
        ...

    def committed(self, partitions: Sequence[tuple[str, int]], timeout: float) -> list[TopicOffset]:
        """The group's committed offsets (``OFFSET_STORED``-like negatives when none)."""
        ...

    def close(self) -> None:
        """Leave the group and release the client; uncommitted work is redelivered later."""
        ...
