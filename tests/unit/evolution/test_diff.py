"""Field-level diffs: additions, removals, type and default changes, renames, nested fields."""

from __future__ import annotations

import json
from typing import Any

from clubhouse.evolution import FieldChange, diff_schemas, parse_schema


def record(*fields: dict[str, Any], name: str = "Order") -> Any:
    return parse_schema(
        json.dumps({"type": "record", "name": name, "namespace": "t", "fields": list(fields)}),
        where="test",
    )


def test_added_removed_retyped_and_defaults() -> None:
    old = record(
        {"name": "sku", "type": "string"},
        {"name": "qty", "type": "long"},
        {"name": "note", "type": "string", "default": ""},
        {"name": "gone", "type": "int"},
        {"name": "flag", "type": "boolean"},
    )
    new = record(
        {"name": "sku", "type": "string"},
        {"name": "qty", "type": "string"},
        {"name": "note", "type": "string", "default": "n/a"},
        {"name": "flag", "type": "boolean", "default": False},
        {"name": "priority", "type": ["null", "long"], "default": None},
    )

    assert diff_schemas(old, new) == [
        FieldChange("flag", "default added", None, "false"),
        FieldChange("gone", "removed", "int (no default)", None),
        FieldChange("note", "default changed", '""', '"n/a"'),
        FieldChange("priority", "added", None, "null | long (default null)"),
        FieldChange("qty", "type changed", "long", "string"),
    ]
    assert [str(c) for c in diff_schemas(old, new)][:2] == [
        "~ flag: default added: None -> false",
        "- gone: int (no default)",
    ]


def test_rename_through_aliases_and_nested_records() -> None:
    address = {"type": "record", "name": "Address", "fields": [{"name": "city", "type": "string"}]}
    address2 = {
        "type": "record",
        "name": "Address",
        "fields": [{"name": "town", "type": "string", "aliases": ["city"]},
                   {"name": "zip", "type": "string"}],
    }  # fmt: skip
    old = record({"name": "ship_to", "type": address}, {"name": "bill_to", "type": "Address"},
                 {"name": "lines", "type": {"type": "array", "items": "Address"}})  # fmt: skip
    lines = {"type": "array", "items": {"type": "map", "values": "long"}}
    new = record({"name": "ship_to", "type": address2}, {"name": "lines", "type": lines})

    changes = {(c.path, c.kind) for c in diff_schemas(old, new)}

    assert ("ship_to.town", "renamed") in changes
    assert ("ship_to.zip", "added") in changes
    assert ("bill_to", "removed") in changes
    assert ("lines", "type changed") in changes
    assert ("lines[].city", "removed") in changes


def test_identical_and_renamed_records() -> None:
    fields = {"name": "a", "type": "int"}
    assert diff_schemas(record(fields), record(fields)) == []
    assert diff_schemas(record(fields), record(fields, name="Other")) == [
        FieldChange("", "record renamed", "t.Order", "t.Other")
    ]
