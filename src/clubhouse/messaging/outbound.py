"""The records the service publishes: how messages become records, and the command each
record answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID, uuid5

from clubhouse.contracts import BaseMessage, ErrorResponse
from clubhouse.messaging.serde import MessageSerde
from clubhouse.messaging.subjects import topic_for

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Origin:
    """The consumed command a record comes from, so a record that cannot be published can
    still answer it, keyed and ordered like the command."""

    command_id: UUID
    key: bytes | None
    source: str  # topic/partition/offset of the command record


@dataclass(frozen=True, slots=True)
class Outbound:
    """A record to produce; ``replacement`` marks one made for a record that could not be."""

    topic: str
    key: bytes | None
    value: bytes | None  # None: a tombstone (a changelog key that owns nothing any more)
    headers: Headers = field(default_factory=list)
    origin: Origin | None = None
    replacement: bool = False
    partition: int | None = None  # None: the partitioner picks it by key


class RecordBuilder:
    """Turns messages into records on their topics, keyed like the command they answer."""

    def __init__(self, serde: MessageSerde, topic_prefix: str) -> None:
        self._serde = serde
        self._prefix = topic_prefix
        # Topic by message class: topic_for's issubclass checks cost more than the lookup.
        self._topics: dict[type[BaseMessage], str] = {}

    def record(self, message: BaseMessage, origin: Origin | None = None) -> Outbound:
        """The record for ``message`` on its topic.

        It is keyed like the command it answers, so all of a key's messages stay in order in
        one partition, errors included; without a command, it has no key.
        """
        key = origin.key if origin is not None else None
        model = type(message)
        topic = self._topics.get(model)
        if topic is None:
            topic = self._topics[model] = topic_for(self._prefix, model)
        return Outbound(
            topic=topic,
            key=key,
            value=self._serde.serialize(message),
            headers=[
                ("message_type", message.message_type.encode()),
                ("message_id", str(message.message_id).encode()),
            ],
            origin=origin,
        )

    def error_record(
        self, origin: Origin, error_type: str, message: str, details: Mapping[str, object]
    ) -> Outbound:
        """An ErrorResponse answering the command of ``origin``, as a record to publish."""
        reply = ErrorResponse(
            # The same id however often this command fails this way, so readers can dedupe.
            message_id=uuid5(origin.command_id, f"error:{error_type}"),
            in_response_to=origin.command_id,
            error_type=error_type,
            error_message=message,
            details=dict(details),
        )
        return self.record(reply, origin)
