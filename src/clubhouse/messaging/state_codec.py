"""An app's typed state in its changelog entries: the state model in Confluent-framed Avro,
under the model's own registered subject, read back with schema resolution.

A state written by an older version of the model is read through its writer schema (found
by the id in its framing) into the current one, as any Avro reader does; so a change that
``clubhouse schemas check`` lets through restores the old state, and one it refuses would
not.
"""

from __future__ import annotations

from pydantic import BaseModel

from clubhouse.application.context import State
from clubhouse.messaging.serde import MessageSerde, UndecodableMessageError


class AvroStateCodec:
    """A ``StateCodec`` for ``model``, through the app's serde (which has its schema id)."""

    def __init__(self, serde: MessageSerde, model: type[BaseModel]) -> None:
        self._serde = serde
        self._model = model

    def encode(self, state: State) -> bytes:
        """``state`` (the model dumped as JSON values) as framed Avro."""
        return self._serde.serialize(self._model.model_validate(state))

    def decode(self, data: bytes) -> State:
        """The stored form of the framed Avro ``data``; ValueError when it is not this
        app's state."""
        try:
            value: BaseModel = self._serde.deserialize(data)
        except UndecodableMessageError as exc:
            raise ValueError(f"the state cannot be read as {self._model.__name__}: {exc}") from exc
        if not isinstance(value, self._model):
            raise ValueError(
                f"the state is a {type(value).__name__}, not this app's {self._model.__name__}"
            )
        return value.model_dump(mode="json")
