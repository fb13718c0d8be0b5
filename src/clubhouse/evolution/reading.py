"""Reading messages written with older schema versions.

A framed message names the schema its producer wrote with by global id. The consumer fetches
that writer schema from the registry (once per id) and lets Avro schema resolution map the
data onto the model it has now: defaults fill fields the writer did not know, aliases map
renamed ones, and fields the reader dropped are skipped.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from clubhouse.avro import AvroCodec, unframe
from clubhouse.services.kafka_protocol import SchemaRegistryProtocol

M = TypeVar("M", bound=BaseModel)


class WriterSchemas:
    """Writer schemas by global id, fetched from the registry the first time each is seen."""

    def __init__(self, registry: SchemaRegistryProtocol) -> None:
        self._registry = registry
        self._by_id: dict[int, str] = {}

    def get(self, schema_id: int) -> str:
        """The schema text registered under ``schema_id``; registry errors propagate."""
        schema = self._by_id.get(schema_id)
        if schema is None:
            schema = self._registry.get_schema(schema_id)
            self._by_id[schema_id] = schema  # ids are immutable, so caching is always safe
        return schema


def decode_framed(data: bytes, codec: AvroCodec[M], writer_schemas: WriterSchemas) -> M:
    """Decode a Confluent-framed message into ``codec``'s model, whatever version wrote it."""
    schema_id, body = unframe(data)
    return codec.decode(body, writer_schema=writer_schemas.get(schema_id))
