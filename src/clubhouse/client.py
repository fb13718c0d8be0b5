"""ClubhouseClient: send commands, wait for the responses that answer them, follow events.

The client only looks schemas up; it never registers them, and it fails with a message saying
to run the registration when one is missing. Responses are matched to commands by
``in_response_to``; the client reads the responses topic from its current end (no consumer
group, so there is no join delay), positioned before the first command is sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from clubhouse.agents.messages import agents_catalog
from clubhouse.contracts import BaseMessage, Command, Event, MessageCatalog, Response
from clubhouse.errors import ClubhouseError
from clubhouse.messaging.serde import MessageSerde, UndecodableMessageError
from clubhouse.messaging.subjects import topic_for

# The modules themselves, not the ``services.kafka`` roll-up, which also loads the admin
# client: a ``clubhouse send`` imports this module and has no use for it.
from clubhouse.services.kafka_consumer import KafkaConsumer
from clubhouse.services.kafka_producer import KafkaProducer
from clubhouse.services.kafka_protocol import (
    OFFSET_BEGINNING,
    ConsumedRecord,
    KafkaProducerProtocol,
    SchemaRegistryProtocol,
    TopicOffset,
)
from clubhouse.services.kafka_settings import KafkaSettings

if TYPE_CHECKING:
    # A client is only handed an App, never builds one: the application package (the
    # dispatcher and its runtime) stays off the start-up of `clubhouse send`.
    from clubhouse.application import App
    from clubhouse.services.schema_registry import ConfluentSchemaRegistry

log = logging.getLogger(__name__)

ReaderFactory = Callable[[], KafkaConsumer]  # a fresh consumer of the service's topics
KeyFunction = Callable[[Command], str | None]


def agent_key(command: Command) -> str | None:
    """The built-in commands' key: their ``agent_id``."""
    agent_id = getattr(command, "agent_id", None)
    return agent_id if isinstance(agent_id, str) else None


TopicKind = Literal["events", "responses", "dead-letters"]


@dataclass(frozen=True, slots=True)
class Published:
    """One record the service published: where, its message (None when its value could not
    be decoded, with ``error`` saying why), and its headers (a dead letter's reasons)."""

    topic: str
    partition: int
    offset: int
    key: str | None
    message: BaseMessage | None
    headers: dict[str, str]
    error: str | None = None


class RequestTimeoutError(ClubhouseError):
    """No response arrived in time for some commands; ``pending`` lists their message ids."""

    def __init__(self, pending: Sequence[UUID], timeout: float) -> None:
        self.pending = list(pending)
        super().__init__(
            f"no response within {timeout:g} s to {len(self.pending)} command(s) "
            f"({', '.join(str(p) for p in self.pending[:3])}{'...' if len(pending) > 3 else ''})."
            " Is the Clubhouse service running and consuming this topic prefix?"
        )


class ClubhouseClient:
    """Request/response and event subscription over Kafka."""

    def __init__(
        self,
        *,
        producer: KafkaProducerProtocol,
        consumer_factory: ReaderFactory,
        serde: MessageSerde,
        topic_prefix: str = "clubhouse",
        key_for: KeyFunction = agent_key,
        clock: Callable[[], float] = time.monotonic,
        on_close: Callable[[], None] = lambda: None,
    ) -> None:
        self._producer = producer
        self._on_close = on_close
        self._key_for = key_for
        self._new_consumer = consumer_factory
        self._serde = serde
        self._prefix = topic_prefix
        self._clock = clock
        self._responses: KafkaConsumer | None = None

    @classmethod
    def connect(
        cls,
        kafka: KafkaSettings | str,
        registry: SchemaRegistryProtocol | str,
        *,
        catalog: MessageCatalog | None = None,
        topic_prefix: str | None = None,
        app: App | None = None,
        idempotent: bool = True,
    ) -> ClubhouseClient:
        """A client for ``kafka`` whose schema ids come from ``registry`` (looked up once).

        Both may be plain addresses: ``connect("localhost:9092", "http://localhost:8081",
        app=app)``. Credentials then come from the environment (``KAFKA_SASL_USERNAME``,
        ``SCHEMA_REGISTRY_BASIC_AUTH`` and friends); pass ``KafkaSettings`` and a registry
        client for anything more.

        With ``app``, the client speaks that App's models under its prefix and keys each
        command by the field its handler declared, so a key's commands share a partition.
        ``idempotent=False`` suits a short-lived client sending a command or two: the
        idempotent producer's set-up costs 0.5-1 s on the dev broker (measured), and a
        command written twice by a retry has one effect, as the service deduplicates
        commands by ``message_id``.
        """
        prefix = topic_prefix or (app.prefix if app is not None else "clubhouse")
        models = app.catalog() if app is not None else agents_catalog()
        if catalog is not None:
            models.add_models(catalog)
        if isinstance(kafka, str):
            kafka = KafkaSettings.from_env(bootstrap_servers=kafka)
        owned: ConfluentSchemaRegistry | None = None
        if isinstance(registry, str):
            # confluent's registry client is the slowest import of all; a caller that brings
            # its own registry client never pays for it.
            from clubhouse.services.registry_settings import RegistrySettings  # noqa: PLC0415
            from clubhouse.services.schema_registry import (  # noqa: PLC0415
                ConfluentSchemaRegistry,
            )

            registry = owned = ConfluentSchemaRegistry.from_settings(
                RegistrySettings.from_env(registry)
            )
        serde = MessageSerde(registry, models, prefix)
        try:
            serde.prepare()
        except BaseException:
            if owned is not None:
                owned.close()
            raise
        producer = (
            KafkaProducer(kafka)
            if idempotent
            else KafkaProducer(
                kafka, idempotence=False, why_not_idempotent="the service dedupes commands"
            )
        )
        return cls(
            producer=producer,
            consumer_factory=lambda: KafkaConsumer(kafka),
            serde=serde,
            topic_prefix=prefix,
            key_for=app.key_for if app is not None else agent_key,
            on_close=owned.close if owned is not None else (lambda: None),
        )

    def send(self, command: Command) -> None:
        """Publish ``command`` and wait for the broker's acknowledgement, not for a response."""
        self._publish([command])

    def request(self, command: Command, timeout: float = 10.0) -> Response:
        """Publish ``command`` and return the response that answers it."""
        return self.request_many([command], timeout)[command.message_id]

    def request_many(
        self, commands: Sequence[Command], timeout: float = 30.0
    ) -> dict[UUID, Response]:
        """Publish all ``commands`` at once and collect every answer, keyed by command id."""
        responses = self._response_reader()
        pending = {c.message_id for c in commands}
        self._publish(commands)
        answers: dict[UUID, Response] = {}
        deadline = self._clock() + timeout
        while pending:
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise RequestTimeoutError(sorted(pending, key=str), timeout)
            for record in responses.poll_batch(500, min(remaining, 0.5)):
                message = self._decode(record)
                if isinstance(message, Response) and message.in_response_to in pending:
                    pending.discard(message.in_response_to)
                    answers[message.in_response_to] = message
        return answers

    def events(
        self, *, from_beginning: bool = False, idle_timeout: float | None = None
    ) -> Iterator[Event]:
        """Events as they are published; stops after ``idle_timeout`` seconds without one."""
        for published in self.follow("events", from_beginning=from_beginning,
                                     idle_timeout=idle_timeout):  # fmt: skip
            if isinstance(published.message, Event):
                yield published.message

    def follow(
        self,
        topic: TopicKind,
        *,
        from_beginning: bool = False,
        idle_timeout: float | None = None,
    ) -> Iterator[Published]:
        """What the service publishes on one of its topics (``events``, ``responses`` or
        ``dead-letters``), as it is published; stops after ``idle_timeout`` seconds without
        a record. A dead letter comes with the headers saying why it was parked."""
        consumer = self._new_consumer()
        try:
            name = f"{self._prefix}-{topic}"
            start = None if not from_beginning else OFFSET_BEGINNING
            consumer.assign(_positions(consumer, name, start))
            last = self._clock()
            while idle_timeout is None or self._clock() - last < idle_timeout:
                for record in consumer.poll_batch(500, 0.5):
                    last = self._clock()
                    yield self._published(record)
        finally:
            consumer.close()

    def _published(self, record: ConsumedRecord) -> Published:
        message: BaseMessage | None = None
        error: str | None = None
        if record.value:
            try:
                message = self._serde.deserialize(record.value)
            except UndecodableMessageError as exc:
                error = str(exc)
        headers = {k: v.decode(errors="replace") for k, v in record.headers if v is not None}
        key = None if record.key is None else record.key.decode(errors="replace")
        return Published(record.topic, record.partition, record.offset, key, message, headers,
                         error)  # fmt: skip

    def close(self) -> None:
        """Close the response reader and flush the producer (10 s at most)."""
        if self._responses is not None:
            self._responses.close()
            self._responses = None
        self._producer.close(10.0)
        self._on_close()  # a registry client made from a plain URL is this client's own

    def __enter__(self) -> ClubhouseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _publish(self, commands: Sequence[Command]) -> None:
        records = []
        for command in commands:
            key_text = self._key_for(command)
            records.append((
                topic_for(self._prefix, type(command)),
                None if key_text is None else key_text.encode(),
                self._serde.serialize(command),
                [("message_type", command.message_type.encode()),
                 ("message_id", str(command.message_id).encode())],
            ))  # fmt: skip
        for topic, key, value, headers in records:
            self._producer.produce(topic, key, value, headers)
        self._producer.flush(30.0)

    def _response_reader(self) -> KafkaConsumer:
        if self._responses is None:
            consumer = self._new_consumer()
            consumer.assign(_positions(consumer, topic_for(self._prefix, Response), None))
            self._responses = consumer
        return self._responses

    def _decode(self, record: ConsumedRecord) -> object:
        if record.value is None:
            return None
        try:
            return self._serde.deserialize(record.value)
        except UndecodableMessageError as exc:
            log.warning("skipping an undecodable record", extra={"source": record.source,
                                                                  "error": str(exc)})  # fmt: skip
            return None


def _positions(consumer: KafkaConsumer, topic: str, start: int | None) -> list[TopicOffset]:
    """Every partition of ``topic`` at its current end (``start=None``) or at ``start``."""
    ends = consumer.end_offsets(topic, timeout=10.0)
    if start is None:
        return ends
    return [TopicOffset(p.topic, p.partition, start) for p in ends]
