"""A realistic, deterministic example of each message, built from its Avro schema.

The example is an Avro datum of the kind fastavro decodes, turned into a model instance by the
converter's own ``from_avro`` and dumped as JSON. That way it passes the model's validation,
follows its aliases and shows what ``model_dump_json`` prints. Values come from the field's
default when it has one, else from its type and a few hints taken from its name.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, get_origin

from pydantic import BaseModel, ValidationError

from clubhouse.avro import compile_model
from clubhouse.avro.converter import avro_field_name
from clubhouse.docs.avro_types import (
    NAMED_KINDS,
    PRIMITIVES,
    definition_fullname,
    definition_namespace,
    fullname,
    short_name,
)
from clubhouse.docs.errors import DocsError
from clubhouse.docs.python_types import nested_classes

# Fixed so that the same model always documents the same example.
EXAMPLE_TIME = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UUID_NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")  # RFC 4122 URL namespace
_MAX_DEPTH = 6  # recursive records stop nesting here (a null, an empty list or map instead)

# Field-name hints for strings: the first suffix that matches wins.
_STRING_HINTS: tuple[tuple[str, str], ...] = (
    ("email", "ada@example.com"),
    ("url", "https://example.com/clubhouse"),
    ("content", "What is on the agenda for today?"),
    ("text", "What is on the agenda for today?"),
    ("error_message", "Agent agent-42 does not exist."),
    ("message", "Everything went fine."),
    ("error_type", "agent_not_found"),
    ("personality_type", "assistant"),
    ("_type", "standard"),
    ("status", "ok"),
    ("state", "ready"),
    ("role", "assistant"),
    ("name", "Ada"),
    ("sku", "SKU-1001"),
)


@dataclass(frozen=True, slots=True)
class Example:
    """The example as JSON-ready data; ``problem`` says why it is not a validated instance."""

    data: Any
    problem: str | None = None

    def to_json(self) -> str:
        """The example's data as indented JSON."""
        return json.dumps(self.data, indent=2, ensure_ascii=False)


def example_message(model: type[BaseModel], schema: Mapping[str, Any]) -> Example:
    """An example instance of ``model`` (whose Avro schema is ``schema``) as JSON data."""
    classes = nested_classes(model)
    datum = _Builder(classes).value(dict(schema), None, model.__name__, ())
    try:
        instance = compile_model(model).from_avro(datum)
    except ValidationError as exc:
        # Constraints the schema does not carry (patterns, bounds) can reject made-up values;
        # show the datum anyway and say so rather than print nothing.
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or model.__name__
        problem = f"made-up value for {where} fails validation: {first['msg']}"
        return Example(_jsonable(datum), problem)
    return Example(instance.model_dump(mode="json", by_alias=True))


class _Builder:
    """Builds a datum for one schema, remembering named types as they are defined."""

    def __init__(self, classes: Mapping[str, type]) -> None:
        self._classes = classes
        self._defined: dict[str, tuple[dict[str, Any], str | None]] = {}

    def value(self, schema: Any, namespace: str | None, hint: str, stack: tuple[str, ...]) -> Any:
        if isinstance(schema, list):
            return self._union(schema, namespace, hint, stack)
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return self._primitive(schema, hint)
            full = fullname(schema, namespace)
            if full not in self._defined:
                raise DocsError(
                    f"example for field {hint!r}: type {full!r} is used before it is defined"
                )
            definition, def_ns = self._defined[full]
            return self._named(definition, def_ns, full, hint, stack)
        kind = schema.get("type")
        if kind in NAMED_KINDS:
            full = definition_fullname(schema, namespace)
            self._defined.setdefault(full, (schema, namespace))
            return self._named(schema, namespace, full, hint, stack)
        if kind == "array":
            if self._too_deep(schema.get("items"), namespace, stack):
                return []
            return [self.value(schema.get("items"), namespace, _singular(hint), stack)]
        if kind == "map":
            if self._too_deep(schema.get("values"), namespace, stack):
                return {}
            return {"key": self.value(schema.get("values"), namespace, hint, stack)}
        return self._logical(schema, hint)

    def _named(
        self,
        schema: dict[str, Any],
        namespace: str | None,
        full: str,
        hint: str,
        stack: tuple[str, ...],
    ) -> Any:
        kind = schema["type"]
        if kind == "enum":
            return schema["symbols"][0]
        if kind == "fixed":
            return bytes(int(schema["size"]))
        inner_ns = definition_namespace(schema, namespace)
        owner = self._classes.get(short_name(full))
        out: dict[str, Any] = {}
        for fld in schema.get("fields", []):
            name = str(fld["name"])
            if "default" in fld and fld["default"] is not None:
                out[name] = self._from_default(
                    fld["type"], fld["default"], inner_ns, name, (*stack, full)
                )
                continue
            json_kind = _json_kind(owner, name)
            if _is_json(fld["type"]) and json_kind is not None:
                out[name] = json_kind
                continue
            out[name] = self.value(fld["type"], inner_ns, name, (*stack, full))
        return out

    def _from_default(
        self, schema: Any, default: Any, namespace: str | None, hint: str, stack: tuple[str, ...]
    ) -> Any:
        """The field's Avro default (JSON form) as the value fastavro would decode."""
        # A union's default belongs to its first branch.
        first = schema[0] if isinstance(schema, list) else schema
        if isinstance(first, str) and first in PRIMITIVES:
            return default.encode("latin-1") if first == "bytes" else default
        if isinstance(first, str):
            defined = self._defined.get(fullname(first, namespace))
            first = defined[0] if defined else first
        if isinstance(first, dict):
            kind, logical = first.get("type"), first.get("logicalType")
            decoded = _decode_logical(logical, default)
            if decoded is not _UNDECODED:
                return decoded
            if kind == "enum" or (logical is None and kind in PRIMITIVES and kind != "bytes"):
                return default
            if kind in ("array", "map") and not default:
                return default
        # Records, decimals and non-empty collections: make a value instead of decoding.
        return self.value(schema, namespace, hint, stack)

    def _union(
        self, branches: list[Any], namespace: str | None, hint: str, stack: tuple[str, ...]
    ) -> Any:
        # The first non-null branch says most; null once recursion would go on forever.
        for branch in branches:
            if branch == "null" or self._too_deep(branch, namespace, stack):
                continue
            return self.value(branch, namespace, hint, stack)
        return None

    def _too_deep(self, schema: Any, namespace: str | None, stack: tuple[str, ...]) -> bool:
        if len(stack) >= _MAX_DEPTH:
            return True
        if isinstance(schema, str) and schema not in PRIMITIVES:
            return fullname(schema, namespace) in stack
        return False

    def _primitive(self, kind: str, hint: str) -> Any:
        if kind == "string":
            return _string_for(hint)
        if kind in ("int", "long"):
            return 3 if "count" in hint else 42
        if kind in ("float", "double"):
            return 0.75
        if kind == "boolean":
            return True
        if kind == "bytes":
            return b"example"
        return None

    def _logical(self, schema: dict[str, Any], hint: str) -> Any:
        logical = schema.get("logicalType")
        base = schema.get("type")
        if logical == "uuid":
            return uuid.uuid5(_UUID_NAMESPACE, f"clubhouse:{hint}")
        if logical in ("timestamp-micros", "timestamp-millis"):
            return EXAMPLE_TIME
        if logical == "date":
            return date(2025, 1, 15)
        if logical in ("time-micros", "time-millis"):
            return time(9, 30)
        if logical == "duration-micros":
            return 90_000_000  # the converter reads plain microseconds back into a timedelta
        if logical == "decimal":
            return _decimal(int(schema.get("precision", 4)), int(schema.get("scale", 0)))
        if logical == "json":
            return "{}"
        return self.value(base, None, hint, ())


_UNDECODED = object()


def _decode_logical(logical: Any, default: Any) -> Any:
    """A logical type's default in fastavro's decoded form, or ``_UNDECODED``."""
    if logical in ("uuid", "json", "duration-micros"):
        return default  # the converter reads these from their plain Avro form
    if logical == "timestamp-micros":
        return _EPOCH + timedelta(microseconds=default)
    if logical == "timestamp-millis":
        return _EPOCH + timedelta(milliseconds=default)
    if logical == "date":
        return date(1970, 1, 1) + timedelta(days=default)
    if logical in ("time-micros", "time-millis"):
        micros = default if logical == "time-micros" else default * 1000
        return (datetime.min + timedelta(microseconds=micros)).time()
    return _UNDECODED


def _is_json(schema: Any) -> bool:
    branches = schema if isinstance(schema, list) else [schema]
    return any(isinstance(b, dict) and b.get("logicalType") == "json" for b in branches)


def _json_kind(owner: type | None, avro_name: str) -> str | None:
    """ "[]" for a list-typed JSON field, "{}" for the rest; None when the owner is unknown."""
    if owner is None or not issubclass(owner, BaseModel):
        return None
    for py_name, info in owner.model_fields.items():
        if avro_field_name(py_name, info) == avro_name:
            origin = get_origin(info.annotation) or info.annotation
            return "[]" if origin in (list, set, frozenset, tuple) else "{}"
    return None


def _string_for(hint: str) -> str:
    lowered = hint.lower()
    if lowered.endswith("_id") or lowered == "id":
        stem = lowered[:-3] or "item"
        return f"{stem.replace('_', '-')}-42"
    for suffix, value in _STRING_HINTS:
        if lowered.endswith(suffix):
            return value
    return f"example {hint.replace('_', ' ')}".strip()


def _singular(hint: str) -> str:
    return hint[:-1] if hint.endswith("s") else hint


def _decimal(precision: int, scale: int) -> Decimal:
    whole_digits = max(precision - scale, 0)
    whole = "12"[: min(whole_digits, 2)] or "0"
    fraction = ("5" + "0" * scale)[:scale]
    return Decimal(f"{whole}.{fraction}") if scale else Decimal(whole)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value
