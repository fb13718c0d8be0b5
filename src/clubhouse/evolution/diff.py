"""A field-level diff between a local model and the latest version of its subject.

Fields are flattened into dotted paths (``address.city``, ``items[].sku``, ``tags{}.x``), nested
records included, so a change anywhere shows up on its own line. The diff also carries the
compatibility verdict under every level, computed against every known version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import avro.schema
from pydantic import BaseModel

from clubhouse.avro.parsing import parse_schema, type_label
from clubhouse.evolution.compare import Comparison, compare
from clubhouse.evolution.sources import SchemaSource
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.kafka_protocol import COMPATIBILITY_LEVELS, CompatibilityLevel

ChangeKind = Literal[
    "added",
    "removed",
    "renamed",
    "type changed",
    "default added",
    "default removed",
    "default changed",
    "record renamed",
]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One difference; ``old`` / ``new`` describe the field on each side (None if absent)."""

    path: str
    kind: ChangeKind
    old: str | None
    new: str | None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"+ {self.path}: {self.new}"
        if self.kind == "removed":
            return f"- {self.path}: {self.old}"
        return f"~ {self.path}: {self.kind}: {self.old} -> {self.new}"


@dataclass(frozen=True, slots=True)
class ModelDiff:
    """The local model against the latest version ``version`` of ``subject`` (None: new)."""

    model: str
    subject: str
    version: int | None
    changes: tuple[FieldChange, ...]
    level: CompatibilityLevel  # the level that applies to the subject
    verdicts: tuple[Comparison, ...]  # one per level, in COMPATIBILITY_LEVELS order


@dataclass(frozen=True, slots=True)
class _Field:
    type: str
    default: str | None  # the default as JSON text; None when the field has none
    aliases: tuple[str, ...]

    def describe(self) -> str:
        default = "no default" if self.default is None else f"default {self.default}"
        return f"{self.type} ({default})"


def diff_schemas(old: avro.schema.Schema, new: avro.schema.Schema) -> list[FieldChange]:
    """What changed from ``old`` to ``new``, field by field."""
    changes: list[FieldChange] = []
    old_name, new_name = getattr(old, "fullname", None), getattr(new, "fullname", None)
    if old_name != new_name:
        changes.append(FieldChange("", "record renamed", old_name, new_name))
    before, after = _flatten(old), _flatten(new)
    removed = {p: f for p, f in before.items() if p not in after}
    for path, field in after.items():
        was = before.get(path)
        if was is None:
            renamed_from = _renamed_from(path, field, removed)
            if renamed_from is not None:
                del removed[renamed_from]
                changes.append(FieldChange(path, "renamed", renamed_from, path))
            else:
                changes.append(FieldChange(path, "added", None, field.describe()))
            continue
        if was.type != field.type:
            changes.append(FieldChange(path, "type changed", was.type, field.type))
        if was.default != field.default:
            kind: ChangeKind = (
                "default added"
                if was.default is None
                else "default removed"
                if field.default is None
                else "default changed"
            )
            changes.append(FieldChange(path, kind, was.default, field.default))
    changes += [FieldChange(p, "removed", f.describe(), None) for p, f in removed.items()]
    return sorted(changes, key=lambda c: (c.path, c.kind))


def diff_model(model: type[BaseModel], *, topic_prefix: str, source: SchemaSource) -> ModelDiff:
    """The diff of ``model`` against its subject's latest version, with verdicts by level."""
    subject = subject_name(topic_prefix, model)
    level = source.level(subject)
    versions = source.versions(subject)
    if not versions:
        return ModelDiff(model.__name__, subject, None, (), level, ())
    new = parse_schema(model_schema(model), where=f"local model {model.__name__}")
    previous = [
        (v, parse_schema(source.schema(subject, v), where=f"{source.description} {subject} v{v}"))
        for v in versions
    ]
    verdicts = tuple(compare(model.__name__, new, previous, lv) for lv in COMPATIBILITY_LEVELS)
    changes = tuple(diff_schemas(previous[-1][1], new))
    return ModelDiff(model.__name__, subject, versions[-1], changes, level, verdicts)


def _renamed_from(path: str, field: _Field, removed: dict[str, _Field]) -> str | None:
    """The removed path this field takes over through its aliases, if any."""
    parent = path.rsplit(".", 1)[0] + "." if "." in path else ""
    for alias in field.aliases:
        if f"{parent}{alias}" in removed:
            return f"{parent}{alias}"
    return None


def _flatten(schema: avro.schema.Schema) -> dict[str, _Field]:
    fields: dict[str, _Field] = {}
    for prefix, record in _records(schema, "", frozenset()):
        for f in record.fields:
            path = f"{prefix}{f.name}"
            default = json.dumps(f.default, sort_keys=True) if f.has_default else None
            aliases = tuple(f.get_prop("aliases") or ())
            fields[path] = _Field(type_label(f.type), default, aliases)
    return fields


def _records(
    schema: avro.schema.Schema, prefix: str, seen: frozenset[str]
) -> Iterator[tuple[str, avro.schema.RecordSchema]]:
    """Every record reachable from ``schema`` with the path prefix of its fields.

    ``seen`` holds the records on the current path, so recursive types stop after one level.
    """
    if isinstance(schema, avro.schema.RecordSchema):
        if schema.fullname in seen:
            return
        yield prefix, schema
        inner = seen | {schema.fullname}
        for f in schema.fields:
            yield from _nested(f.type, f"{prefix}{f.name}", inner)


def _nested(
    schema: avro.schema.Schema, path: str, seen: frozenset[str]
) -> Iterator[tuple[str, avro.schema.RecordSchema]]:
    if isinstance(schema, avro.schema.RecordSchema):
        yield from _records(schema, f"{path}.", seen)
    elif isinstance(schema, avro.schema.ArraySchema):
        yield from _nested(schema.items, f"{path}[]", seen)
    elif isinstance(schema, avro.schema.MapSchema):
        yield from _nested(schema.values, f"{path}{{}}", seen)
    elif isinstance(schema, avro.schema.UnionSchema):
        records = [b for b in schema.schemas if isinstance(b, avro.schema.RecordSchema)]
        for branch in schema.schemas:
            # With several record branches, name the branch so their fields stay apart.
            several = len(records) > 1 and isinstance(branch, avro.schema.RecordSchema)
            label = f"<{branch.name}>" if several else ""
            yield from _nested(branch, f"{path}{label}", seen)
