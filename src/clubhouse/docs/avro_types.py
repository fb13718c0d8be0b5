"""Reading Avro schemas for people: short type names with links, and the named types inside.

Works on parsed Avro JSON (dicts, lists and strings), so it serves the local models' schemas
and the older versions fetched from a registry alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED_KINDS = frozenset({"record", "enum", "fixed"})


@dataclass(frozen=True, slots=True)
class TypePart:
    """One piece of a displayed type; ``ref`` is the full name of the named type it shows."""

    text: str
    ref: str | None = None


TypeText = tuple[TypePart, ...]


def fullname(name: str, namespace: str | None) -> str:
    """The full name of ``name`` read inside ``namespace`` (Avro's name resolution rule)."""
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def short_name(full: str) -> str:
    """``"a.b.Name"`` -> ``"Name"``."""
    return full.rpartition(".")[2]


def definition_namespace(schema: dict[str, Any], enclosing: str | None) -> str | None:
    """The namespace of the named type ``schema``; names inside it resolve against it too."""
    name = str(schema.get("name", ""))
    if "." in name:
        return name.rpartition(".")[0]
    if "namespace" in schema:  # an explicit "" means the null namespace, not the enclosing one
        return str(schema["namespace"] or "") or None
    return enclosing


def definition_fullname(schema: dict[str, Any], enclosing: str | None) -> str:
    """The full name a named type definition ``schema`` gets inside ``enclosing``."""
    return fullname(short_name(str(schema["name"])), definition_namespace(schema, enclosing))


def type_text(schema: Any, namespace: str | None, *, full_names: bool = False) -> TypeText:
    """``schema`` as display parts, e.g. ``null | array<LineItem>``; named types carry a ref.

    Named types show their short name unless ``full_names`` is set (the changelog compares
    full names so that a namespace change counts as a type change).
    """
    return tuple(_parts(schema, namespace, full_names))


def type_string(schema: Any, namespace: str | None, *, full_names: bool = False) -> str:
    """``type_text`` joined into plain text."""
    return "".join(p.text for p in type_text(schema, namespace, full_names=full_names))


def _parts(schema: Any, namespace: str | None, full_names: bool) -> Iterator[TypePart]:
    if isinstance(schema, list):
        for i, branch in enumerate(schema):
            if i:
                yield TypePart(" | ")
            yield from _parts(branch, namespace, full_names)
        return
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            yield TypePart(schema)
        else:
            full = fullname(schema, namespace)
            yield TypePart(full if full_names else short_name(full), full)
        return
    if not isinstance(schema, dict):
        yield TypePart(repr(schema))
        return
    kind = schema.get("type")
    if kind in NAMED_KINDS:
        full = definition_fullname(schema, namespace)
        yield TypePart(full if full_names else short_name(full), full)
    elif kind == "array":
        yield TypePart("array<")
        yield from _parts(schema.get("items"), namespace, full_names)
        yield TypePart(">")
    elif kind == "map":
        yield TypePart("map<")
        yield from _parts(schema.get("values"), namespace, full_names)
        yield TypePart(">")
    else:
        # A primitive with attributes, usually a logical type.
        yield from _parts(kind, namespace, full_names)
        logical = schema.get("logicalType")
        if logical == "decimal":
            yield TypePart(f" (decimal {schema.get('precision')},{schema.get('scale', 0)})")
        elif logical:
            yield TypePart(f" ({logical})")


@dataclass(frozen=True, slots=True)
class NamedType:
    """A record, enum or fixed type defined somewhere inside a schema."""

    fullname: str
    schema: dict[str, Any]
    namespace: str | None  # what names inside it resolve against

    @property
    def kind(self) -> str:
        """The Avro type: ``record``, ``enum`` or ``fixed``."""
        return str(self.schema["type"])

    @property
    def name(self) -> str:
        """The name without its namespace."""
        return short_name(self.fullname)


def named_types(schema: Any, namespace: str | None = None) -> list[NamedType]:
    """Every named type ``schema`` defines, in definition order (the top-level record first)."""
    found: dict[str, NamedType] = {}
    _collect(schema, namespace, found)
    return list(found.values())


def _collect(schema: Any, namespace: str | None, found: dict[str, NamedType]) -> None:
    if isinstance(schema, list):
        for branch in schema:
            _collect(branch, namespace, found)
        return
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind in NAMED_KINDS:
        inner_ns = definition_namespace(schema, namespace)
        full = definition_fullname(schema, namespace)
        found.setdefault(full, NamedType(full, schema, inner_ns))
        for fld in schema.get("fields", []) if kind == "record" else []:
            _collect(fld.get("type"), inner_ns, found)
    elif kind == "array":
        _collect(schema.get("items"), namespace, found)
    elif kind == "map":
        _collect(schema.get("values"), namespace, found)
    elif isinstance(kind, (dict, list)):
        _collect(kind, namespace, found)
