"""Errors raised while turning models into Avro schemas and messages into bytes and back."""

from __future__ import annotations

from clubhouse.errors import ClubhouseError


class SchemaConversionError(ClubhouseError, TypeError):
    """A model cannot be expressed in Avro; the message names ``Model.field.path`` and the type."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class CodecError(ClubhouseError, ValueError):
    """Bytes could not be turned into a message, or a message into bytes."""


class FramingError(CodecError):
    """A buffer is not in Confluent's wire format (magic byte 0, 4-byte schema id, body)."""


class EncodeError(CodecError):
    """A model instance could not be written with its Avro schema."""


class DecodeError(CodecError):
    """An Avro body could not be read into the model.

    ``datum`` holds what Avro did read when only the model's validation failed, so a caller
    can still tell which message it was (its ``message_id``, say).
    """

    def __init__(self, message: str, *, datum: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.datum = datum
