"""The Avro form of one Python annotation, with its value converters.

Each ``TypeForm`` says how a type appears in a schema, how its Python values become Avro
datums and back, and how a default is written. The converter combines them into records;
the mapping policy is documented in docs/avro-mapping.md.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args, get_origin
from uuid import UUID

import pydantic_core

from clubhouse.avro.errors import SchemaConversionError

Converter = Callable[[Any], Any]
Schema = Any  # an Avro schema fragment: a type name, a dict or a union list

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)
_MICRO = timedelta(microseconds=1)
_JSON_SCHEMA: dict[str, str] = {"type": "string", "logicalType": "json"}


@dataclass(slots=True)
class TypeForm:
    """One annotation's Avro form and its value converters (``None`` means identity)."""

    schema: Schema
    to_avro: Converter | None
    from_avro: Converter | None
    to_default: Converter
    # The Avro type a union may hold once: a primitive/complex type name, or a named type's name.
    union_key: str
    # Python types that select this branch when encoding a union / that fastavro hands back.
    py_types: tuple[type, ...]
    decoded_types: tuple[type, ...]
    named_class: type | None = None  # a model or enum class, for union tuple notation


def _identity_default(value: Any) -> Any:
    return value


class _NoDefault:
    def __repr__(self) -> str:
        return "<no default>"


NO_DEFAULT: Any = _NoDefault()


def branch_for(branches: list[TypeForm], value: Any) -> int | None:
    """The index of the first branch taking ``value`` (a bool only a bool branch); else None."""
    for i, b in enumerate(branches):
        if isinstance(value, bool) != (bool in b.py_types):
            continue
        if isinstance(value, b.py_types):
            return i
    return None


def union_form(branches: list[TypeForm]) -> TypeForm:
    """The form of a union of ``branches``; named branches are written in tuple notation."""
    schema = [b.schema for b in branches]

    def to_avro(value: Any) -> Any:
        idx = branch_for(branches, value)
        if idx is None:
            return value  # let fastavro report the mismatch with its own message
        b = branches[idx]
        datum = b.to_avro(value) if b.to_avro else value
        # Tuple notation names the branch, so two records with the same field names never
        # get confused the way fastavro's best-match guess would.
        return (b.union_key, datum) if b.named_class is not None else datum

    def from_avro(datum: Any) -> Any:
        if isinstance(datum, tuple):
            name, inner = datum
            for b in branches:
                if b.union_key == name:
                    return b.from_avro(inner) if b.from_avro else inner
            return inner
        kind = type(datum)
        for b in branches:
            if kind in b.decoded_types:
                is_enum = b.named_class is not None and issubclass(b.named_class, enum.Enum)
                if is_enum and datum not in b.named_class.__members__:  # type: ignore[union-attr]
                    continue
                return b.from_avro(datum) if b.from_avro else datum
        return datum

    def to_default(value: Any) -> Any:
        return branches[0].to_default(value)

    py_types = tuple(t for b in branches for t in b.py_types)
    decoded = tuple(t for b in branches for t in b.decoded_types)
    return TypeForm(schema, to_avro, from_avro, to_default, "union", py_types, decoded)


def nullable_form(inner: TypeForm, *, null_first: bool) -> TypeForm:
    """``inner`` made optional: a union with null, first or last as ``null_first`` says."""
    inner_schema = inner.schema if isinstance(inner.schema, list) else [inner.schema]
    schema = ["null", *inner_schema] if null_first else [*inner_schema, "null"]
    to_inner, from_inner = inner.to_avro, inner.from_avro
    to_avro = None if to_inner is None else (lambda v: None if v is None else to_inner(v))
    from_avro = None if from_inner is None else (lambda v: None if v is None else from_inner(v))
    if inner.named_class is not None and to_inner is not None:
        key = inner.union_key
        # A lone named branch beside null still gets tuple notation: cheap and unambiguous.
        to_avro = lambda v: None if v is None else (key, to_inner(v))  # noqa: E731
    inner_default = inner.to_default

    def to_default(value: Any) -> Any:
        return None if value is None else inner_default(value)

    return TypeForm(
        schema, to_avro, from_avro, to_default, "union",
        (*inner.py_types, type(None)), (*inner.decoded_types, type(None)),
    )  # fmt: skip


def array_form(item: TypeForm) -> TypeForm:
    """The form of an Avro array of ``item``, taking any list, tuple or set."""
    conv, back, item_default = item.to_avro, item.from_avro, item.to_default
    if conv is None:
        to_avro: Converter = lambda v: v if type(v) is list else list(v)  # noqa: E731
    else:
        to_avro = lambda v: [conv(x) for x in v]  # noqa: E731
    from_avro = None if back is None else (lambda v: [back(x) for x in v])
    return TypeForm(
        {"type": "array", "items": item.schema}, to_avro, from_avro,
        lambda v: [item_default(x) for x in v], "array",
        (list, tuple, set, frozenset), (list,),
    )  # fmt: skip


def map_form(value: TypeForm) -> TypeForm:
    """The form of an Avro map from string keys to ``value``."""
    conv, back, value_default = value.to_avro, value.from_avro, value.to_default
    to_avro = None if conv is None else (lambda v: {k: conv(x) for k, x in v.items()})
    from_avro = None if back is None else (lambda v: {k: back(x) for k, x in v.items()})
    return TypeForm(
        {"type": "map", "values": value.schema}, to_avro, from_avro,
        lambda v: {k: value_default(x) for k, x in v.items()}, "map", (dict,), (dict,),
    )  # fmt: skip


def _json_dumps(value: Any) -> str:
    return pydantic_core.to_json(value).decode()


def json_form() -> TypeForm:
    """The form of arbitrary JSON data, carried as an Avro string."""
    return TypeForm(
        dict(_JSON_SCHEMA), _json_dumps, pydantic_core.from_json, _json_dumps, "string",
        (object,), (str,),
    )  # fmt: skip


def _primitive(
    name: str, py: tuple[type, ...], to_default: Converter = _identity_default
) -> Callable[[], TypeForm]:
    def make() -> TypeForm:
        return TypeForm(name, None, None, to_default, name, py, py)

    return make


def _micros(delta: timedelta) -> int:
    return delta // _MICRO


def datetime_form(*, naive: bool) -> TypeForm:
    """The form of a datetime as ``timestamp-micros``; ``naive`` ones read back naive in UTC."""
    def to_default(value: datetime) -> int:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return _micros(aware - _EPOCH)

    # fastavro writes naive values as UTC and reads back aware UTC values; a field declared
    # naive gets its naive UTC value back so that the round trip is exact.
    from_avro = (lambda v: v.astimezone(UTC).replace(tzinfo=None)) if naive else None
    return TypeForm(
        {"type": "long", "logicalType": "timestamp-micros"}, None, from_avro, to_default,
        "long", (datetime,), (datetime,),
    )  # fmt: skip


def _date() -> TypeForm:
    return TypeForm(
        {"type": "int", "logicalType": "date"}, None, None,
        lambda v: (v - _EPOCH_DATE).days, "int", (date,), (date,),
    )  # fmt: skip


def _time() -> TypeForm:
    def to_default(value: time) -> int:
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + (
            value.microsecond
        )

    return TypeForm(
        {"type": "long", "logicalType": "time-micros"}, None, None, to_default,
        "long", (time,), (time,),
    )  # fmt: skip


def _timedelta() -> TypeForm:
    def from_avro(value: int) -> timedelta:
        return timedelta(microseconds=value)

    return TypeForm(
        {"type": "long", "logicalType": "duration-micros"}, _micros, from_avro, _micros,
        "long", (timedelta,), (int,),
    )  # fmt: skip


def _uuid() -> TypeForm:
    return TypeForm(
        {"type": "string", "logicalType": "uuid"}, str, None, str, "string", (UUID,), (UUID, str)
    )


def decimal_form(metadata: list[Any], path: str) -> TypeForm:
    """The form of an Avro decimal, its precision and scale from the field's ``metadata``."""
    precision = next((m.max_digits for m in metadata if getattr(m, "max_digits", None)), None)
    scale = next(
        (m.decimal_places for m in metadata if getattr(m, "decimal_places", None) is not None),
        None,
    )
    if precision is None or scale is None:
        raise SchemaConversionError(
            path,
            "Decimal needs both max_digits and decimal_places, e.g. "
            "Field(max_digits=12, decimal_places=2), to become Avro decimal(precision, scale)",
        )

    def to_default(value: Decimal) -> str:
        unscaled = int(Decimal(value).scaleb(scale).to_integral_value())
        size = max(1, (unscaled.bit_length() + 8) // 8)
        return unscaled.to_bytes(size, "big", signed=True).decode("latin-1")

    schema = {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}
    return TypeForm(schema, None, None, to_default, "bytes", (Decimal,), (Decimal,))


def literal_form(tp: Any, path: str) -> TypeForm:
    """The Avro primitive for a ``Literal`` whose values share one type (str, bool or int)."""
    values = get_args(tp)
    kinds = {type(v) for v in values}
    if kinds == {str}:
        return _primitive("string", (str,))()
    if kinds == {bool}:
        return _primitive("boolean", (bool,))()
    if kinds == {int}:
        return _primitive("long", (int,))()
    raise SchemaConversionError(path, f"{tp!r} mixes value types; Avro needs one type")


def literal_doc(tp: Any) -> str | None:
    """``Allowed values: ...`` for a ``Literal`` (or one among ``tp``'s arguments), else None."""
    for arg in [tp, *get_args(tp)]:
        if get_origin(arg) is Literal:
            return "Allowed values: " + ", ".join(repr(v) for v in get_args(arg)) + "."
    return None


def type_name(tp: Any) -> str:
    """The type's qualified name, or its repr when it has none."""
    return getattr(tp, "__qualname__", None) or repr(tp)


SIMPLE_FORMS: dict[type, Callable[[], TypeForm]] = {
    bool: _primitive("boolean", (bool,)),
    int: _primitive("long", (int,)),
    float: _primitive("double", (float, int), float),
    str: _primitive("string", (str,)),
    bytes: _primitive("bytes", (bytes,), lambda v: bytes(v).decode("latin-1")),
    date: _date,
    time: _time,
    timedelta: _timedelta,
    UUID: _uuid,
}
