"""Parse, validate and canonicalise Avro schemas, with their references resolved.

Two texts are derived from every schema:

* the **canonical** text: the submitted JSON with whitespace removed and object keys in a
  fixed order, so formatting and key order never create a new id;
* the **normalized** text (``normalize=true``): what the ``avro`` package writes back after
  parsing, which also folds spellings that mean the same schema (``{"type": "string"}`` and
  ``"string"``, ``namespace`` + ``name`` and a full name) into one.

The canonical text is not ``clubhouse.avro.canonical``'s: that one orders the converter's own
output (for people, golden files and byte-identical builds); this one is the identity of
every stored schema, so changing its order would give existing schemas new ids.

A schema must satisfy both the ``avro`` package (which the compatibility checks use) and
``fastavro`` (which confluent-kafka's serializers use), so nothing is stored that a client
could not later use to serialize.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import avro.errors
import avro.name
import avro.schema
import fastavro.schema

from clubhouse.avro.schema_builder import build_schema
from clubhouse.registry.errors import invalid_schema, schema_too_large
from clubhouse.registry.messages import json_quoted
from clubhouse.registry.records import Reference

# Keys that make a schema readable when they come first; the rest follow alphabetically.
_TYPE_KEYS = (
    "type",
    "name",
    "namespace",
    "doc",
    "aliases",
    "fields",
    "symbols",
    "items",
    "values",
    "size",
    "logicalType",
    "precision",
    "scale",
    "default",
)
_FIELD_KEYS = ("name", "type", "doc", "default", "order", "aliases")
_TYPE_ORDER = {key: rank for rank, key in enumerate(_TYPE_KEYS)}
_FIELD_ORDER = {key: rank for rank, key in enumerate(_FIELD_KEYS)}

_FASTAVRO_CRASHES = (KeyError, TypeError, ValueError, AttributeError, IndexError)


@dataclass(frozen=True, slots=True)
class ResolvedReference:
    """A reference together with the schema text it points at and that schema's own references.

    ``schema_id`` identifies the referenced content; it is part of cache keys because a
    (subject, version) pair can be hard-deleted and later reused for different content.
    """

    reference: Reference
    schema_id: int
    schema: str
    dependencies: tuple[ResolvedReference, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedSchema:
    """A validated schema: the ``avro`` object for compatibility checks and its two texts."""

    avro: avro.schema.Schema
    canonical: str
    normalized: str


MAX_DEPTH = 100
"""JSON nesting allowed in a schema; deeper ones would exhaust recursion in the Avro libraries."""

DEFAULT_MAX_FIELDS = 50_000
"""Record fields one request may bring (its references included): the work budget.

Parsing and checking cost time in proportion to the fields; at this many a registration
takes a few seconds of one core, and nothing a contract needs comes near it.
"""


def _field_count(value: Any) -> int:
    """How many record fields JSON ``value`` declares, nested records included."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            fields = item.get("fields")
            if isinstance(fields, list):
                count += len(fields)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _check_budget(count: int, limit: int | None) -> None:
    if limit is not None and count > limit:
        raise schema_too_large(count, limit)


def _depth(value: Any) -> int:
    """How deeply JSON ``value`` nests (iteratively, so it cannot overflow the stack itself)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_json(text: str, what: str) -> Any:
    """``json.loads`` that names ``what`` failed to parse, and rejects NaN and Infinity."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise invalid_schema(f"{what} is nested too deeply to parse.") from None
    except ValueError as exc:
        raise invalid_schema(f"{what} is not valid JSON: {exc}.") from None
    surrogate = _lone_surrogate(value)
    if surrogate is not None:
        # json.loads lets "\ud800" through; such a string cannot be stored, hashed or sent
        # back as UTF-8, so it is refused here rather than failing deep inside a handler.
        raise invalid_schema(
            f"{what} holds a lone UTF-16 surrogate (U+{surrogate:04X}); "
            "JSON may escape only complete surrogate pairs."
        )
    return value


def _lone_surrogate(value: Any) -> int | None:
    """The code point of the first unpaired surrogate in any string of ``value``, or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as exc:
                    return ord(item[exc.start])
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def ordered(value: Any, rank: dict[str, int] = _TYPE_ORDER) -> Any:
    """``value`` with every object's keys in the canonical order (lists keep their order).

    Record fields put ``name`` first, types put ``type`` first, as Avro's own writers do.
    """
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (rank.get(k, len(rank)), k))
        return {
            key: (
                [ordered(f, _FIELD_ORDER) for f in value[key]]
                if key == "fields" and isinstance(value[key], list)
                else ordered(value[key])
            )
            for key in keys
        }
    if isinstance(value, list):
        return [ordered(item) for item in value]
    return value


def dump(value: Any) -> str:
    """Compact, key-ordered JSON text: the canonical spelling of a JSON value."""
    return json.dumps(ordered(value), separators=(",", ":"), ensure_ascii=False)


def fingerprint(text: str, references: Sequence[ResolvedReference]) -> str:
    """What identifies a schema globally: its text plus the exact references it imports.

    The referenced schema ids are part of it, so a reference whose (subject, version) was
    deleted and reused for other content never matches the old schema.
    """
    digest = hashlib.sha256(text.encode("utf-8"))
    for ref in references:
        digest.update(b"\x00")
        digest.update(dump(ref.reference.to_json()).encode("utf-8"))
        digest.update(f"@{ref.schema_id}".encode())
    return digest.hexdigest()


def _copy_names(names: avro.name.Names) -> avro.name.Names:
    copy = avro.name.Names(validate_names=True)
    copy.names = dict(names.names)
    return copy


class _ReferenceLoader:
    """Parses referenced schemas once each, dependencies first, into shared name tables.

    ``fields`` counts the record fields loaded so far, for the work budget.
    """

    def __init__(self, fields: int, max_fields: int | None) -> None:
        self.avro_names = avro.name.Names(validate_names=True)
        self.fastavro_names: dict[str, Any] = {}
        self.fields = fields
        self._max_fields = max_fields
        self._seen: set[int] = set()

    def load(self, ref: ResolvedReference, path: str) -> None:
        if ref.schema_id in self._seen:
            return
        self._seen.add(ref.schema_id)
        target = ref.reference
        where = f"{path}reference '{target.name}' ({target.subject} v{target.version}): "
        for dep in ref.dependencies:
            self.load(dep, where)
        data = load_json(ref.schema, f"{where}the referenced schema")
        self.fields += _field_count(data)
        _check_budget(self.fields, self._max_fields)
        _validate(data, self.avro_names, self.fastavro_names, where)


def _fastavro_message(exc: Exception) -> str:
    if isinstance(exc, fastavro.schema.UnknownType):
        # fastavro's message is the bare name.
        return (
            f"unknown type {json.dumps(exc.name, ensure_ascii=False)}: it is neither a "
            "primitive type nor a named type defined before it."
        )
    return str(exc)


def _validate(
    data: Any, avro_names: avro.name.Names, fastavro_names: dict[str, Any], where: str
) -> avro.schema.Schema:
    """Parse ``data`` with both libraries, adding its named types to both name tables.

    When both refuse the schema, the avro package's message is the one reported: this
    project's builder names the record and field at fault. Library messages quote schema
    fragments as Python reprs; they are rewritten as JSON (``messages.json_quoted``).
    """
    fastavro_failure: str | None = None
    try:
        fastavro.schema.parse_schema(data, named_schemas=fastavro_names, _write_hint=False)
    except (fastavro.schema.SchemaParseException, fastavro.schema.UnknownType) as exc:
        fastavro_failure = _fastavro_message(exc)
    except _FASTAVRO_CRASHES as exc:
        # fastavro reports some malformed schemas by crashing with plain Python errors.
        fastavro_failure = f"malformed schema ({exc!r})"
    except RecursionError:
        raise invalid_schema(f"{where}the schema is nested too deeply.") from None
    try:
        parsed = build_schema(data, avro_names)
    except avro.errors.AvroException as exc:
        raise invalid_schema(f"{where}{json_quoted(str(exc))}") from None
    except RecursionError:
        raise invalid_schema(f"{where}the schema is nested too deeply.") from None
    except (TypeError, AttributeError, ValueError) as exc:
        # The avro package assumes well-typed JSON in places (e.g. a number where a name
        # belongs); those are still the submitter's errors, not ours.
        raise invalid_schema(f"{where}malformed schema ({json_quoted(str(exc))}).") from None
    if fastavro_failure is not None:
        raise invalid_schema(f"{where}{json_quoted(fastavro_failure)}")
    return parsed


def parse(
    text: str, references: Sequence[ResolvedReference] = (), *, max_fields: int | None = None
) -> ParsedSchema:
    """Validate ``text`` (with ``references`` in scope) and derive its canonical texts.

    Raises ``ApiError`` 42201 naming the problem and, for references, the chain of
    references that led to it; 413 when the schema and its references declare more than
    ``max_fields`` record fields (None: no budget), counted before any Avro parsing.
    """
    data = load_json(text, "The schema")
    own_fields = _field_count(data)
    _check_budget(own_fields, max_fields)
    loader = _ReferenceLoader(own_fields, max_fields)
    for ref in references:
        loader.load(ref, "")
    depth = _depth(data)
    if depth > MAX_DEPTH:
        raise invalid_schema(
            f"the schema nests {depth} levels deep; at most {MAX_DEPTH} are supported."
        )
    parsed = _validate(data, _copy_names(loader.avro_names), dict(loader.fastavro_names), "")
    try:
        normalized_json = parsed.to_json(_copy_names(loader.avro_names))
    except (avro.errors.AvroException, RecursionError) as exc:
        raise invalid_schema(f"the schema cannot be written back as JSON ({exc}).") from None
    return ParsedSchema(avro=parsed, canonical=dump(data), normalized=dump(normalized_json))
