"""Parse Avro schema text into ``avro`` package objects and describe types for people (the
schema layer the compatibility checker, the evolution tools and the validator share).

The compatibility checker, the diff and the validator all walk ``avro.schema`` objects, so
named types referenced by name are already resolved to the one object that defines them.
"""

from __future__ import annotations

import json
import warnings

import avro.errors
import avro.name
import avro.schema

from clubhouse.avro.schema_builder import build_schema
from clubhouse.errors import ClubhouseError


class SchemaTextError(ClubhouseError):
    """A schema text (a file, or an answer from the registry) is not a valid Avro schema."""


def parse_schema(text: str, *, where: str) -> avro.schema.Schema:
    """Parse ``text`` as the registry does; ``where`` names its origin in the error message."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SchemaTextError(f"{where}: not valid JSON: {exc}") from exc
    with warnings.catch_warnings():
        # Clubhouse uses logical types the avro package does not know (json, duration-micros);
        # it reads them as their underlying type, which is exactly what we compare.
        warnings.simplefilter("ignore", avro.errors.IgnoredLogicalType)
        try:
            return build_schema(data, avro.name.Names(validate_names=True))
        except avro.errors.AvroException as exc:
            raise SchemaTextError(f"{where}: not a valid Avro schema: {exc}") from exc
        except (TypeError, AttributeError, ValueError) as exc:
            # The avro package assumes well-typed JSON in places.
            raise SchemaTextError(f"{where}: malformed Avro schema: {exc}") from exc


def type_label(schema: avro.schema.Schema) -> str:
    """A short readable name for a type: ``long (timestamp-micros)``, ``null | string``."""
    if isinstance(schema, avro.schema.UnionSchema):
        return " | ".join(type_label(branch) for branch in schema.schemas)
    if isinstance(schema, avro.schema.ArraySchema):
        return f"array<{type_label(schema.items)}>"
    if isinstance(schema, avro.schema.MapSchema):
        return f"map<{type_label(schema.values)}>"
    if isinstance(schema, avro.schema.RecordSchema):
        return f"record {schema.name}"
    if isinstance(schema, avro.schema.EnumSchema):
        return f"enum {schema.name} {{{', '.join(schema.symbols)}}}"
    if isinstance(schema, avro.schema.FixedSchema):
        return f"fixed {schema.name}[{schema.size}]"
    logical = schema.get_prop("logicalType")
    if logical == "decimal":
        return f"{schema.type} (decimal {schema.get_prop('precision')},{schema.get_prop('scale')})"
    if logical:
        return f"{schema.type} ({logical})"
    return str(schema.type)
