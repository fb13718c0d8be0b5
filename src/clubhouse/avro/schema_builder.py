"""Build ``avro.schema`` objects from schema JSON in time linear in the schema's size.

``avro.schema.make_avsc_object`` checks each record field's name against a list of the names
before it, and each union branch's type against a list rebuilt from the branches before it,
so a record of n fields costs O(n²): 20,000 fields took seconds, 60,000 most of a minute.
This builder makes the same objects (the same classes, properties and named-type table) and
refuses the same schemas, but does the recursion itself and keeps the names seen in sets.
Leaves without children (primitives, logical types, enums, fixed) are still built by the
``avro`` package, so its own rules for them apply unchanged.

Error messages name where the problem is (``field 'a' of record 'ns.R'``) and show schema
fragments as JSON, never as Python reprs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import avro.constants
import avro.errors
import avro.name
import avro.schema

_RECORD_TYPES = ("record", "error")
# Shown in messages: enough of a fragment to recognise it, never a whole giant schema.
_SHOWN_CHARS = 200


def shown(fragment: Any) -> str:
    """``fragment`` as compact JSON for an error message, cut short when long."""
    try:
        text = json.dumps(fragment, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(fragment)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def build_schema(data: Any, names: avro.name.Names) -> avro.schema.Schema:
    """The ``avro.schema`` object for JSON ``data``, its named types added to ``names``.

    Raises ``avro.errors.SchemaParseException`` (or another ``AvroException``) for a schema
    the ``avro`` package would refuse.
    """
    return _Builder(names).build(data, "the schema")


class _Builder:
    """One build: the name table it fills and the recursion over the schema's JSON."""

    def __init__(self, names: avro.name.Names) -> None:
        self._names = names

    def build(self, data: Any, where: str) -> avro.schema.Schema:
        if isinstance(data, str):
            named = self._names.get_name(data, None) if self._names.has_name(data, None) else None
            if named is not None:
                return named
            if data not in avro.constants.PRIMITIVE_TYPES:
                raise avro.errors.SchemaParseException(
                    f"{where} is {shown(data)}, which is neither a primitive type nor a named "
                    "type defined before it."
                )
            return self._leaf(data, where)
        if isinstance(data, list):
            return self._union(data, where)
        if isinstance(data, Mapping):
            return self._object(data, where)
        raise avro.errors.SchemaParseException(
            f"{where} is {shown(data)}, which is not an Avro schema (expected a type name, "
            "an object or a union list)."
        )

    def _leaf(self, data: Any, where: str) -> avro.schema.Schema:
        """A schema without children, built by the ``avro`` package itself."""
        try:
            leaf: avro.schema.Schema = avro.schema.make_avsc_object(
                data, self._names, validate_names=True
            )
        except avro.errors.SchemaParseException as exc:
            raise avro.errors.SchemaParseException(f"{where}: {exc}") from None
        return leaf

    def _object(self, data: Mapping[str, Any], where: str) -> avro.schema.Schema:
        # A logicalType on a record, array or map means nothing to the avro package (it
        # warns and ignores it); on the other types the leaf builder applies it.
        type_ = data.get("type")
        if type_ in _RECORD_TYPES:
            return self._record(data, type_, where)
        if type_ == "array":
            return self._array(data, where)
        if type_ == "map":
            return self._map(data, where)
        if type_ is None:
            raise avro.errors.SchemaParseException(
                f'{where} has no "type" property: {shown(dict(data))}'
            )
        if not isinstance(type_, str) or type_ not in avro.constants.VALID_TYPES:
            raise avro.errors.SchemaParseException(
                f'{where} has "type": {shown(type_)}; inside an object the type must be one '
                "of Avro's type names (record, enum, array, map, fixed or a primitive)."
            )
        return self._leaf(dict(data), where)

    def _record(self, data: Mapping[str, Any], type_: str, where: str) -> avro.schema.Schema:
        name = data.get("name")
        if not isinstance(name, str):
            raise avro.errors.SchemaParseException(
                f'{where}: a {type_}\'s "name" must be a string, got {shown(name)}.'
            )
        fields = data.get("fields")
        if not isinstance(fields, list):
            raise avro.errors.SchemaParseException(
                f"{where}: {type_} '{name}' needs a \"fields\" list, got {shown(fields)}."
            )
        names = self._names
        namespace = data.get("namespace", names.default_namespace)
        other = avro.schema.get_other_props(data, avro.schema.SCHEMA_RESERVED_PROPS)
        # Built without fields, which registers the name first (so fields may refer to the
        # record itself); the fields are added below, checked for duplicates in a set.
        record = avro.schema.RecordSchema(
            name, namespace, [], names, type_, data.get("doc"), other, True
        )
        here = f"{type_} '{record.fullname}'"
        previous_namespace = names.default_namespace
        if type_ == "record":  # as the avro package does: only records set the namespace
            names.default_namespace = avro.name.Name(
                name, namespace, names.default_namespace, validate_name=True
            ).space
        try:
            built = []
            seen: set[str] = set()
            for index, field in enumerate(fields):
                made = self._field(field, index, here)
                if made.name in seen:
                    raise avro.errors.SchemaParseException(
                        f"{here}: field name '{made.name}' is used more than once."
                    )
                seen.add(made.name)
                built.append(made)
        finally:
            if type_ == "record":
                names.default_namespace = previous_namespace
        record.set_prop("fields", built)
        return record

    def _field(self, field: Any, index: int, record: str) -> avro.schema.Field:
        if not isinstance(field, Mapping):
            raise avro.errors.SchemaParseException(
                f"{record}: fields[{index}] is {shown(field)}, not a field object."
            )
        name = field.get("name")
        label = f"field '{name}'" if isinstance(name, str) and name else f"fields[{index}]"
        where = f"{label} of {record}"
        if "type" not in field:
            raise avro.errors.SchemaParseException(f'{where} has no "type".')
        field_type = self.build(field.get("type"), f"the type of {where}")
        other = avro.schema.get_other_props(field, avro.schema.FIELD_RESERVED_PROPS)
        try:
            # The avro package checks the name and order; the type is put in afterwards, so
            # a placeholder stands in for it (its own parse of the type would recurse).
            made = avro.schema.Field(
                "null",
                name,
                "default" in field,
                field.get("default"),
                field.get("order"),
                self._names,
                field.get("doc"),
                other,
                validate_names=True,
            )
        except avro.errors.SchemaParseException as exc:
            raise avro.errors.SchemaParseException(f"{where}: {exc}") from None
        made.set_prop("type", field_type)
        made.type = field_type
        return made

    def _array(self, data: Mapping[str, Any], where: str) -> avro.schema.Schema:
        if "items" not in data:
            raise avro.errors.SchemaParseException(f'{where}: an array needs "items".')
        items = self.build(data["items"], f"the array items in {where}")
        other = avro.schema.get_other_props(data, avro.schema.SCHEMA_RESERVED_PROPS)
        array = avro.schema.ArraySchema("null", self._names, other, True)
        array.set_prop("items", items)
        return array

    def _map(self, data: Mapping[str, Any], where: str) -> avro.schema.Schema:
        if "values" not in data:
            raise avro.errors.SchemaParseException(f'{where}: a map needs "values".')
        values = self.build(data["values"], f"the map values in {where}")
        other = avro.schema.get_other_props(data, avro.schema.SCHEMA_RESERVED_PROPS)
        map_ = avro.schema.MapSchema("null", self._names, other, True)
        map_.set_prop("values", values)
        return map_

    def _union(self, branches: list[Any], where: str) -> avro.schema.Schema:
        built = []
        unnamed: set[str] = set()
        for index, branch in enumerate(branches):
            made = self.build(branch, f"branch {index} of {where}")
            if made.type == "union":
                raise avro.errors.SchemaParseException(
                    f"{where}: a union cannot contain another union (branch {index})."
                )
            if made.type not in avro.constants.NAMED_TYPES:
                if made.type in unnamed:
                    raise avro.errors.SchemaParseException(
                        f"{where}: the union has more than one {made.type} branch (branch {index})."
                    )
                unnamed.add(made.type)
            built.append(made)
        union = avro.schema.UnionSchema([], self._names, validate_names=True)
        # The branches were checked above with sets; the avro package keeps them here.
        union._schemas = built
        return union
