"""Type display and named-type discovery on raw Avro JSON."""

from __future__ import annotations

from clubhouse.docs.avro_types import TypePart, named_types, type_string, type_text


def test_primitives_logical_types_and_containers_read_like_source() -> None:
    assert type_string(["null", "string"], None) == "null | string"
    assert type_string({"type": "long", "logicalType": "timestamp-micros"}, None) == (
        "long (timestamp-micros)"
    )
    decimal = {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}
    assert type_string(decimal, None) == "bytes (decimal 10,2)"
    assert type_string({"type": "array", "items": {"type": "map", "values": "long"}}, None) == (
        "array<map<long>>"
    )


def test_named_types_are_short_with_a_ref_to_their_full_name() -> None:
    schema = {"type": "array", "items": {"type": "record", "name": "Item", "fields": []}}
    assert type_text(schema, "shop") == (
        TypePart("array<"),
        TypePart("Item", "shop.Item"),
        TypePart(">"),
    )
    # A reference by name resolves against the enclosing namespace; a dotted one does not.
    assert type_text("Item", "shop") == (TypePart("Item", "shop.Item"),)
    assert type_text("other.Item", "shop") == (TypePart("Item", "other.Item"),)
    assert type_string("Item", "shop", full_names=True) == "shop.Item"


def test_named_types_found_in_definition_order_with_namespace_rules() -> None:
    schema = {
        "type": "record",
        "name": "Top",
        "namespace": "a",
        "fields": [
            {"name": "x", "type": ["null", {"type": "record", "name": "X", "fields": [
                {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
            ]}]},
            {"name": "y", "type": {"type": "map", "values": {
                "type": "record", "name": "b.Y", "fields": [
                    {"name": "z", "type": {"type": "fixed", "name": "Z", "size": 4}},
                ]}}},
            {"name": "w", "type": {"type": "record", "name": "W", "namespace": "", "fields": []}},
            {"name": "again", "type": "X"},
        ],
    }  # fmt: skip
    found = named_types(schema)
    assert [t.fullname for t in found] == ["a.Top", "a.X", "a.E", "b.Y", "b.Z", "W"]
    assert [t.kind for t in found] == ["record", "record", "enum", "record", "fixed", "record"]
