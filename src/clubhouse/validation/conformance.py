"""Does a value conform to an Avro schema? Every violation, each with its path.

Values may come in two shapes and both are accepted: Python objects (a model instance, with
``datetime``, ``UUID``, ``Decimal``, enum members, nested models) and their JSON form (ISO
date-time strings, UUID strings, enum symbol names), as found in a ``msg.json`` file.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

import avro.schema
import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError

from clubhouse.avro.converter import avro_field_name
from clubhouse.avro.parsing import type_label

_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)
_DURATION = TypeAdapter(timedelta)


@dataclass(frozen=True, slots=True)
class Violation:
    """One place where a value does not match its schema."""

    path: str  # e.g. "items[2].sku", "tags['a']"; "" for the value itself
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.path or '(message)'}: expected {self.expected}, found {self.found}"


def violations(schema: avro.schema.Schema, value: Any) -> list[Violation]:
    """Every way ``value`` fails to match ``schema``; empty when it conforms."""
    found: list[Violation] = []
    _check(schema, value, "", found)
    return found


def describe_value(value: Any) -> str:
    """A short description of what was found: its type and, for scalars, the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float | Decimal):
        return f"{type(value).__name__} {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, bytes | bytearray):
        return f"bytes ({len(value)} bytes)"
    if isinstance(value, list | tuple | set | frozenset):
        return f"array of {len(value)}"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _check(schema: avro.schema.Schema, value: Any, path: str, out: list[Violation]) -> None:
    if isinstance(schema, avro.schema.UnionSchema):
        _union(schema, value, path, out)
    elif isinstance(schema, avro.schema.RecordSchema):
        _record(schema, value, path, out)
    elif isinstance(schema, avro.schema.ArraySchema):
        if isinstance(value, list | tuple | set | frozenset):
            for i, item in enumerate(value):
                _check(schema.items, item, f"{path}[{i}]", out)
        else:
            out.append(Violation(path, type_label(schema), describe_value(value)))
    elif isinstance(schema, avro.schema.MapSchema):
        if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
            for key, item in value.items():
                _check(schema.values, item, f"{path}[{key!r}]", out)
        else:
            out.append(Violation(path, type_label(schema), describe_value(value)))
    elif isinstance(schema, avro.schema.EnumSchema):
        symbol = value.name if isinstance(value, enum.Enum) else value
        if not (isinstance(symbol, str) and symbol in schema.symbols):
            out.append(Violation(path, type_label(schema), describe_value(value)))
    elif isinstance(schema, avro.schema.FixedSchema):
        if not (isinstance(value, bytes | bytearray | str) and len(value) == schema.size):
            out.append(Violation(path, type_label(schema), describe_value(value)))
    elif not _primitive_ok(schema, value):
        out.append(Violation(path, type_label(schema), describe_value(value)))


def _record(schema: avro.schema.RecordSchema, value: Any, path: str, out: list[Violation]) -> None:
    data = _as_mapping(value)
    if data is None:
        out.append(Violation(path, type_label(schema), describe_value(value)))
        return
    prefix = f"{path}." if path else ""
    known = set()
    for field in schema.fields:
        known.add(field.name)
        if field.name in data:
            _check(field.type, data[field.name], prefix + field.name, out)
        elif not field.has_default:
            out.append(Violation(prefix + field.name, type_label(field.type), "missing"))
    for extra in data:
        if extra not in known:
            out.append(
                Violation(
                    prefix + str(extra),
                    f"nothing ({schema.name} has no such field)",
                    describe_value(data[extra]),
                )
            )


def _union(schema: avro.schema.UnionSchema, value: Any, path: str, out: list[Violation]) -> None:
    branches = list(schema.schemas)
    # fastavro's explicit-branch notation: ("Name", value).
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        named = [b for b in branches if value[0] in (getattr(b, "fullname", None), b.type)]
        if named:
            _check(named[0], value[1], path, out)
            return
    tried: list[list[Violation]] = []
    for branch in branches:
        problems: list[Violation] = []
        _check(branch, value, path, problems)
        if not problems:
            return
        tried.append(problems)
    records = [
        (len(p), i) for i, (b, p) in enumerate(zip(branches, tried, strict=True))
        if isinstance(b, avro.schema.RecordSchema)
    ]  # fmt: skip
    if records and _as_mapping(value) is not None:
        # An object meant as one of the record branches: report inside the closest one.
        out.extend(tried[min(records)[1]])
        return
    out.append(Violation(path, type_label(schema), describe_value(value)))


def _as_mapping(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        return {avro_field_name(n, info): getattr(value, n) for n, info in fields.items()}
    if isinstance(value, Mapping):
        return value
    return None


def _primitive_ok(schema: avro.schema.Schema, value: Any) -> bool:
    logical = schema.get_prop("logicalType")
    check = _LOGICAL.get((str(schema.type), str(logical))) if logical else None
    if check is not None:
        return check(schema, value)
    return _PLAIN[str(schema.type)](value)


def _is_int(value: Any, bounds: tuple[int, int]) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return bounds[0] <= value <= bounds[1]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_PLAIN: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "int": lambda v: _is_int(v, _INT_RANGE),
    "long": lambda v: _is_int(v, _LONG_RANGE),
    "float": _is_number,
    "double": _is_number,
    "bytes": lambda v: isinstance(v, bytes | bytearray | str),
    "string": lambda v: isinstance(v, str),
}


def _parses(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _timestamp(_schema: avro.schema.Schema, value: Any) -> bool:
    if isinstance(value, datetime):
        return True
    if isinstance(value, str):
        return _parses(datetime.fromisoformat, value)
    return _is_int(value, _LONG_RANGE)


def _date(_schema: avro.schema.Schema, value: Any) -> bool:
    if isinstance(value, date) and not isinstance(value, datetime):
        return True
    if isinstance(value, str):
        return _parses(date.fromisoformat, value)
    return _is_int(value, _INT_RANGE)


def _time(schema: avro.schema.Schema, value: Any) -> bool:
    if isinstance(value, time):
        return True
    if isinstance(value, str):
        return _parses(time.fromisoformat, value)
    return _is_int(value, _INT_RANGE if schema.type == "int" else _LONG_RANGE)


def _uuid(_schema: avro.schema.Schema, value: Any) -> bool:
    return isinstance(value, UUID) or (isinstance(value, str) and _parses(UUID, value))


def _duration(_schema: avro.schema.Schema, value: Any) -> bool:
    if isinstance(value, timedelta) or _is_int(value, _LONG_RANGE):
        return True
    if isinstance(value, str):
        try:
            _DURATION.validate_python(value)
        except ValidationError:
            return False
        return True
    return False


def _json(_schema: avro.schema.Schema, value: Any) -> bool:
    # The field holds JSON text on the wire; anything the codec can serialise becomes that text.
    try:
        pydantic_core.to_json(value)
    except pydantic_core.PydanticSerializationError:
        return False
    return True


def _decimal(schema: avro.schema.Schema, value: Any) -> bool:
    if isinstance(value, bytes | bytearray):
        return True
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        return False
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return False
    if not number.is_finite() or (isinstance(value, float) and not math.isfinite(value)):
        return False
    precision = _int_prop(schema, "precision")
    scale = _int_prop(schema, "scale")
    exponent = number.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    digits = len(number.as_tuple().digits) + max(exponent if isinstance(exponent, int) else 0, 0)
    return places <= scale and digits - places <= precision - scale


def _int_prop(schema: avro.schema.Schema, name: str) -> int:
    value = schema.get_prop(name)
    return value if isinstance(value, int) else 0


_LOGICAL: dict[tuple[str, str], Callable[[avro.schema.Schema, Any], bool]] = {
    ("long", "timestamp-micros"): _timestamp,
    ("long", "timestamp-millis"): _timestamp,
    ("long", "local-timestamp-micros"): _timestamp,
    ("long", "local-timestamp-millis"): _timestamp,
    ("int", "date"): _date,
    ("int", "time-millis"): _time,
    ("long", "time-micros"): _time,
    ("string", "uuid"): _uuid,
    ("long", "duration-micros"): _duration,
    ("string", "json"): _json,
    ("bytes", "decimal"): _decimal,
}
