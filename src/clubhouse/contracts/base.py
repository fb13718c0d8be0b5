"""The message hierarchy every contract derives from: BaseMessage, then Command/Response/Event."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, SafeUUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

MESSAGE_TYPE_DOC = "Dotted message type, e.g. command.create_agent; fixed per message class."


# The version (4) and variant (RFC 4122) bits, as uuid.UUID(bytes=..., version=4) sets them.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (4 << 76) | (0x8000 << 48)
_UUID5_SET = (5 << 76) | (0x8000 << 48)
_UNKNOWN = SafeUUID.unknown  # looking an enum member up costs as much as setting a slot
_set_slot = object.__setattr__


def uuid4() -> UUID:
    """A random (version 4) UUID, the same as ``uuid.uuid4()`` makes, built faster.

    ``UUID.__init__`` sorts out its arguments in Python, which was a third of the cost of
    building a message; the value goes straight into the two slots a UUID has instead.
    """
    return uuid_of((int.from_bytes(os.urandom(16), "big") & _UUID4_CLEAR) | _UUID4_SET)


def uuid5_of(namespace: UUID, name: str) -> UUID:
    """``uuid.uuid5(namespace, name)``, built the same fast way as ``uuid4``."""
    digest = hashlib.sha1(namespace.bytes + name.encode(), usedforsecurity=False).digest()
    return uuid_of((int.from_bytes(digest[:16], "big") & _UUID4_CLEAR) | _UUID5_SET)


def uuid_of(value: int) -> UUID:
    """The UUID whose 128-bit value is ``value`` (version and variant bits already set)."""
    uid = object.__new__(UUID)
    _set_slot(uid, "int", value)
    _set_slot(uid, "is_safe", _UNKNOWN)
    return uid


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class BaseMessage(BaseModel):
    """Common envelope of every Clubhouse message."""

    model_config = ConfigDict(extra="forbid")

    # Where the Avro converter puts these records; user models may set their own.
    __avro_namespace__: ClassVar[str] = "clubhouse.messages"

    message_id: UUID = Field(default_factory=uuid4, description="Unique id of this message.")
    timestamp: AwareDatetime = Field(
        default_factory=utc_now, description="When the message was created (UTC, microseconds)."
    )
    message_type: str = Field(default="message", description=MESSAGE_TYPE_DOC)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # Subclasses set their type as `message_type: str = "command.x"`, which makes a new
        # field without a description; keep the documented one so schemas and docs say it.
        field = cls.model_fields["message_type"]
        if field.description is None:
            field.description = MESSAGE_TYPE_DOC


class Command(BaseMessage):
    """A request for the service to do something; answered by a Response."""

    message_type: str = "command"


class Response(BaseMessage):
    """The answer to one Command."""

    message_type: str = "response"
    in_response_to: UUID | None = Field(
        default=None, description="message_id of the command this answers."
    )


class Event(BaseMessage):
    """Something that happened, published for any interested subscriber."""

    message_type: str = "event"
