"""Avro binary encoding of flat records, compiled once per schema, for the codec's hot path.

fastavro's writer walks the parsed schema for every datum, which was most of the cost of
encoding a message. ``compile_writer(schema)`` turns a record schema made only of strings,
longs, ints, booleans, doubles, ``timestamp-micros`` and unions of null with one of those
(every built-in message) into one function from the Avro datum to its bytes; for any other
schema it returns None and the codec keeps fastavro's writer.

The compiled function takes values of exactly the expected Python types only; for anything
else it raises ``Unhandled`` (or ``KeyError``/``ValueError``) and the codec writes that
datum with fastavro, which also words the error when there is one. Its bytes are fastavro's
bytes: tests compare the two on every built-in message.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from clubhouse.errors import ClubhouseError

Writer = Callable[[Any], bytes]

_SMALL = tuple(bytes((i,)) for i in range(0x80))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_DOUBLE = struct.Struct("<d")
_INT_RANGE = {"int": (-(1 << 31), (1 << 31) - 1), "long": (-(1 << 63), (1 << 63) - 1)}


class Unhandled(ClubhouseError):
    """A value the compiled writer does not take exactly; fastavro writes it instead."""


# Continuation bits of a k-byte varint: the top bit of every byte but the last.
_CONTINUE = tuple(sum(0x80 << (8 * i) for i in range(k - 1)) for k in range(9))


def _varint(n: int) -> bytes:
    """``n`` (not negative) as Avro's base-128 varint."""
    if n < 0x80:
        return _SMALL[n]
    if n < 1 << 56:
        # Spread the 7-bit groups into bytes in three steps instead of one per byte: a
        # timestamp is 8 varint bytes, and the loop below was most of its cost.
        x = ((n & 0xFFFFFFF0000000) << 4) | (n & 0xFFFFFFF)
        x = ((x & 0x0FFFC0000FFFC000) << 2) | (x & 0x00003FFF00003FFF)
        x = ((x & 0x3F803F803F803F80) << 1) | (x & 0x007F007F007F007F)
        size = (n.bit_length() + 6) // 7
        return (x | _CONTINUE[size]).to_bytes(size, "little")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _string(value: Any) -> bytes:
    if type(value) is not str:
        raise Unhandled
    data = value.encode()  # a lone surrogate raises UnicodeEncodeError, a ValueError
    return _varint(len(data) << 1) + data


def _integer(kind: str) -> Writer:
    low, high = _INT_RANGE[kind]

    def write(value: Any) -> bytes:
        if type(value) is not int or not low <= value <= high:
            raise Unhandled
        return _varint((value << 1) ^ (value >> 63))

    return write


def _boolean(value: Any) -> bytes:
    if type(value) is not bool:
        raise Unhandled
    return b"\x01" if value else b"\x00"


def _double(value: Any) -> bytes:
    if type(value) is not float:
        raise Unhandled
    return _DOUBLE.pack(value)


def _null(value: Any) -> bytes:
    if value is not None:
        raise Unhandled
    return b""


def _timestamp_micros(value: Any) -> bytes:
    # Aware datetimes only: fastavro's own arithmetic for them is this exact integer one.
    if type(value) is not datetime or value.tzinfo is None:
        raise Unhandled
    micros = (value - _EPOCH) // _MICRO
    if not -(1 << 63) <= micros < (1 << 63):
        raise Unhandled
    return _varint((micros << 1) ^ (micros >> 63))


_PRIMITIVES: dict[str, Writer] = {
    "string": _string,
    "long": _integer("long"),
    "int": _integer("int"),
    "boolean": _boolean,
    "double": _double,
    "null": _null,
}


def _simple(schema: Any) -> Writer | None:
    """The writer of a non-union field type, or None when this module does not handle it."""
    if isinstance(schema, str):
        return _PRIMITIVES.get(schema)
    if not isinstance(schema, dict):
        return None
    kind, logical = schema.get("type"), schema.get("logicalType")
    if logical is None or (logical == "json" and kind == "string"):
        return _PRIMITIVES.get(kind) if isinstance(kind, str) else None
    if logical == "timestamp-micros" and kind == "long":
        return _timestamp_micros
    return None


def _field(schema: Any) -> Writer | None:
    if not isinstance(schema, list):
        return _simple(schema)
    if len(schema) != 2 or "null" not in schema:
        return None
    null_index = schema.index("null")
    other = _simple(schema[1 - null_index])
    if other is None or other is _null:
        return None
    null_prefix, other_prefix = _SMALL[null_index << 1], _SMALL[(1 - null_index) << 1]
    write_other = other

    def write(value: Any) -> bytes:
        # fastavro picks the first branch the value fits; null fits None only.
        if value is None:
            return null_prefix
        return other_prefix + write_other(value)

    return write


def compile_writer(schema: Any) -> Writer | None:
    """A function writing datums of the record ``schema``; None if the schema is not flat."""
    if not isinstance(schema, dict) or schema.get("type") != "record":
        return None
    fields: list[tuple[str, Writer]] = []
    for field in schema.get("fields", []):
        writer = _field(field["type"])
        if writer is None:
            return None
        fields.append((field["name"], writer))
    plan = tuple(fields)

    def write(datum: Any) -> bytes:
        return b"".join([writer(datum[name]) for name, writer in plan])

    return write
