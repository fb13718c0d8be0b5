"""The message hierarchy every contract derives from: BaseMessage, then Command/Response/Event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

MESSAGE_TYPE_DOC = "Dotted message type, e.g. command.create_agent; fixed per message class."


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
