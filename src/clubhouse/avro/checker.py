"""The ``avro`` package's reader/writer checker, linear in record width, with spec alias names.

Two departures from ``avro.compatibility.ReaderWriterCompatibilityChecker``, both proven
against Java Avro's ``SchemaCompatibility`` by the differential tests:

* Work. The stock checker rebuilds the writer's field map for every reader field and merges
  each field's result into a new copy of the growing message and location sets, so a record
  of n fields costs O(n²). Here the map is built once per record pair and the field results
  are folded into one accumulator; the outcome is the one the stock merge chain gives.
* Record, enum and fixed aliases are names relative to the reader type's namespace, as the
  Avro specification says and Java does: ``"aliases": ["Old"]`` on ``ns.New`` names
  ``ns.Old``. The stock checker compares the alias text as written with the writer's full
  name, so it refuses ``ns.Old`` and accepts a ``Old`` in the null namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import avro.schema
from avro.compatibility import (
    CompatibleResult,
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
    SchemaIncompatibilityType,
    SchemaType,
    check_fixed_size,
    check_reader_enum_contains_writer_enum,
    incompatible,
    lookup_writer_field,
    merge,
)


def alias_full_names(schema: avro.schema.NamedSchema) -> frozenset[str]:
    """The full names ``schema``'s aliases give, each resolved in its namespace."""
    aliases = schema.props.get("aliases")
    if not isinstance(aliases, list):
        return frozenset()
    namespace = schema.fullname.rpartition(".")[0]
    return frozenset(
        alias if "." in alias or not namespace else f"{namespace}.{alias}"
        for alias in aliases
        if isinstance(alias, str)
    )


def check_names(
    reader: avro.schema.NamedSchema, writer: avro.schema.NamedSchema, location: list[str]
) -> SchemaCompatibilityResult:
    """``check_schema_names`` with aliases resolved as the specification (and Java) do."""
    if reader.name == writer.name or writer.fullname in alias_full_names(reader):
        return CompatibleResult
    return incompatible(
        SchemaIncompatibilityType.name_mismatch, f"expected: {writer.fullname}", [*location, "name"]
    )


class _FieldIndex:
    """A writer record's field map, built once, in the shape ``lookup_writer_field`` reads."""

    def __init__(self, fields: Mapping[str, avro.schema.Field]) -> None:
        self.fields_dict = fields


class _Fold:
    """The result of ``merge(merge(CompatibleResult, r1), r2)…``, accumulated in place.

    Until a result is not compatible, ``merge`` keeps the latest one's sets; from then on it
    unions every later result's messages and locations into the first incompatible one's.
    """

    def __init__(self) -> None:
        self._latest: SchemaCompatibilityResult = CompatibleResult
        self._incompatibilities: list[SchemaIncompatibilityType] = []
        self._messages: set[str] | None = None
        self._locations: set[str] = set()

    def add(self, result: SchemaCompatibilityResult) -> None:
        self._incompatibilities.extend(result.incompatibilities)
        if self._messages is not None:
            self._messages |= result.messages
            self._locations |= result.locations
        elif result.compatibility is SchemaCompatibilityType.compatible:
            self._latest = result
        else:
            self._latest = result
            self._messages = set(result.messages)
            self._locations = set(result.locations)

    def result(self) -> SchemaCompatibilityResult:
        latest = self._latest
        return SchemaCompatibilityResult(
            compatibility=latest.compatibility,
            incompatibilities=self._incompatibilities,
            messages=latest.messages if self._messages is None else self._messages,
            locations=latest.locations if self._messages is None else self._locations,
        )


class LinearChecker(ReaderWriterCompatibilityChecker):
    """``ReaderWriterCompatibilityChecker`` with the two departures the module describes."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def calculate_compatibility(
        self, reader: avro.schema.Schema, writer: avro.schema.Schema, location: list[str]
    ) -> SchemaCompatibilityResult:
        """Check two named schemas of one type by name and shape; else use the stock check."""
        if (
            reader.type != writer.type
            or not isinstance(reader, avro.schema.NamedSchema)
            or not isinstance(writer, avro.schema.NamedSchema)
        ):
            result: SchemaCompatibilityResult = super().calculate_compatibility(
                reader, writer, location
            )
            return result
        named = merge(CompatibleResult, check_names(reader, writer, location))
        if isinstance(reader, avro.schema.FixedSchema):
            return merge(
                named, check_fixed_size(reader, cast(avro.schema.FixedSchema, writer), location)
            )
        if isinstance(reader, avro.schema.EnumSchema):
            enum_writer = cast(avro.schema.EnumSchema, writer)
            return merge(
                named, check_reader_enum_contains_writer_enum(reader, enum_writer, location)
            )
        assert isinstance(reader, avro.schema.RecordSchema)  # the named types are three
        fields = self.check_reader_writer_record_fields(
            reader, cast(avro.schema.RecordSchema, writer), location
        )
        return merge(named, fields)

    def check_reader_writer_record_fields(
        self,
        reader: avro.schema.RecordSchema,
        writer: avro.schema.RecordSchema,
        location: list[str],
    ) -> SchemaCompatibilityResult:
        """Check each reader field against the writer field of the same name, or its default."""
        index = cast(avro.schema.RecordSchema, _FieldIndex(writer.fields_dict))
        fold = _Fold()
        for i, reader_field in enumerate(reader.fields):
            here = [*location, "fields", str(i)]
            writer_field = lookup_writer_field(writer_schema=index, reader_field=reader_field)
            if writer_field is not None:
                fold.add(self.get_compatibility(reader_field.type, writer_field.type, "type", here))
            elif reader_field.has_default:
                continue
            elif reader_field.type.type == SchemaType.ENUM and reader_field.type.props.get(
                "default"
            ):
                # The library (and Java) then compare the enum with the whole writer record.
                fold.add(self.get_compatibility(reader_field.type, writer, "type", here))
            else:
                fold.add(
                    incompatible(
                        SchemaIncompatibilityType.reader_field_missing_default_value,
                        reader_field.name,
                        here,
                    )
                )
        return fold.result()
