"""Confluent's wire framing: magic byte 0, the schema id as 4 bytes big-endian, the Avro body."""

from __future__ import annotations

import struct

from clubhouse.avro.errors import FramingError

MAGIC_BYTE = 0
HEADER_SIZE = 5
_HEADER = struct.Struct(">bI")


def frame(schema_id: int, body: bytes) -> bytes:
    """Prefix an Avro body with Confluent's header for ``schema_id``."""
    if not 0 <= schema_id <= 0xFFFFFFFF:
        raise FramingError(f"schema id {schema_id} does not fit in 4 unsigned bytes")
    return _HEADER.pack(MAGIC_BYTE, schema_id) + body


def unframe(data: bytes) -> tuple[int, bytes]:
    """Split a framed message into ``(schema_id, body)``, or raise ``FramingError`` saying why."""
    if len(data) < HEADER_SIZE:
        raise FramingError(
            f"message is {len(data)} bytes; Confluent framing needs at least {HEADER_SIZE} "
            "(magic byte + 4-byte schema id)"
        )
    magic, schema_id = _HEADER.unpack_from(data)
    if magic != MAGIC_BYTE:
        raise FramingError(
            f"unknown magic byte {magic & 0xFF:#04x}; expected 0x00 (Confluent wire format). "
            "Was it produced without a schema-registry serializer?"
        )
    return schema_id, bytes(data[HEADER_SIZE:])
