"""The docs' changelog wording over the evolution diff."""

from __future__ import annotations

import json

import pytest

from clubhouse.docs import DocsError
from clubhouse.docs.changelog import change_css, change_detail, change_where, diff_schema_texts

V1 = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "qty", "type": "int"},
        {"name": "note", "type": "string", "default": ""},
        {"name": "line", "type": {"type": "record", "name": "Line", "fields": [
            {"name": "sku", "type": "string"}]}},
    ],
}  # fmt: skip


def _v2() -> dict[str, object]:
    v2 = json.loads(json.dumps(V1))
    fields = v2["fields"]
    fields[1]["type"] = "long"
    fields[2]["default"] = "n/a"
    fields[3]["type"]["fields"].append({"name": "price", "type": "double", "default": 0.0})
    del fields[0]
    fields.append({"name": "customer", "type": ["null", "string"], "default": None})
    return v2


def test_added_removed_retyped_and_redefaulted_fields_including_nested_ones() -> None:
    changes = diff_schema_texts(json.dumps(V1), json.dumps(_v2()), old_name="v1", new_name="v2")
    shown = {(change_where(c), c.kind, change_detail(c)) for c in changes}
    assert ("id", "removed", "was string (no default)") in shown
    assert ("qty", "type changed", "int \u2192 long") in shown
    assert ("note", "default changed", '"" \u2192 "n/a"') in shown
    assert ("line.price", "added", "double (default 0.0)") in shown
    assert ("customer", "added", "null | string (default null)") in shown
    assert {change_css(c) for c in changes} >= {"added", "removed", "type-changed"}


def test_identical_schemas_have_no_changes() -> None:
    assert diff_schema_texts(json.dumps(V1), json.dumps(V1), old_name="a", new_name="b") == []


def test_a_broken_schema_names_where_it_came_from() -> None:
    with pytest.raises(DocsError, match=r"subject-x v3"):
        diff_schema_texts(
            json.dumps(V1), "{not json", old_name="subject-x v2", new_name="subject-x v3"
        )
