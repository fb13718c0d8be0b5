"""Canonical and normalized schema texts, validation, and reference resolution."""

from __future__ import annotations

import json

import pytest

from clubhouse.registry import canonical
from clubhouse.registry.errors import ApiError, ErrorCode
from clubhouse.registry.records import Reference


def test_whitespace_and_key_order_give_the_same_canonical_text() -> None:
    a = '{"type": "record", "name": "U", "fields": [{"name": "a", "type": "long"}]}'
    b = '{\n  "fields" : [ {"type":"long",   "name":"a"} ],\n "name":"U", "type":"record"}'
    assert canonical.parse(a).canonical == canonical.parse(b).canonical
    assert canonical.parse(a).canonical == (
        '{"type":"record","name":"U","fields":[{"name":"a","type":"long"}]}'
    )


def test_field_order_is_meaningful_and_kept() -> None:
    a = canonical.parse(
        '{"type":"record","name":"U","fields":[{"name":"a","type":"int"},'
        '{"name":"b","type":"int"}]}'
    )
    b = canonical.parse(
        '{"type":"record","name":"U","fields":[{"name":"b","type":"int"},'
        '{"name":"a","type":"int"}]}'
    )
    assert a.canonical != b.canonical


def test_normalized_text_folds_equivalent_spellings() -> None:
    short = '{"type":"record","name":"ns.U","fields":[{"name":"a","type":"string"}]}'
    long = (
        '{"type":"record","name":"U","namespace":"ns",'
        '"fields":[{"name":"a","type":{"type":"string"}}]}'
    )
    assert canonical.parse(short).canonical != canonical.parse(long).canonical
    assert canonical.parse(short).normalized == canonical.parse(long).normalized


def test_docs_defaults_and_custom_properties_survive_canonicalisation() -> None:
    text = json.dumps(
        {
            "type": "record",
            "name": "U",
            "doc": "a user",
            "x-owner": "team",
            "fields": [{"name": "a", "type": "int", "default": 3, "doc": "the a"}],
        }
    )
    parsed = json.loads(canonical.parse(text).canonical)
    assert parsed["doc"] == "a user"
    assert parsed["x-owner"] == "team"
    assert parsed["fields"][0] == {"name": "a", "type": "int", "doc": "the a", "default": 3}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ('{"type":"record","name":"U","fields":[{"name":"a","type":"strin"}]}', "strin"),
        ('{"type":"record","name":"1U","fields":[]}', "1U"),
        (
            '{"type":"record","name":"U","fields":[{"name":"a","type":"int","default":"x"}]}',
            "Default value",
        ),
        ('{"type":"record","name":"U","fields":[{"name":"a"}]}', "type"),
        ('{"type":"array"}', "Items"),
        ('{"type":"fixed","name":"F","size":"x"}', "size"),
        (
            '{"type":"record","name":"U","fields":[{"name":"a","type":"int","default":NaN}]}',
            "not valid JSON",
        ),
        ("[" * 5000 + "]" * 5000, "deeply"),
    ],
)
def test_invalid_schemas_raise_42201_naming_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(ApiError) as info:
        canonical.parse(text)
    assert info.value.status == 422
    assert info.value.error_code == ErrorCode.INVALID_SCHEMA
    assert fragment.lower() in info.value.message.lower()  # wording varies across avro releases


ADDRESS = (
    '{"type":"record","name":"Address","namespace":"geo","fields":[{"name":"zip","type":"string"}]}'
)
ORDER = '{"type":"record","name":"Order","fields":[{"name":"ship_to","type":"geo.Address"}]}'


def _address(schema_id: int = 1) -> canonical.ResolvedReference:
    return canonical.ResolvedReference(
        reference=Reference(name="geo.Address", subject="addr", version=1),
        schema_id=schema_id,
        schema=canonical.parse(ADDRESS).canonical,
    )


def test_references_put_named_types_in_scope_and_stay_references() -> None:
    parsed = canonical.parse(ORDER, [_address()])
    assert '"type":"geo.Address"' in parsed.canonical
    assert '"type":"geo.Address"' in parsed.normalized  # not inlined
    with pytest.raises(ApiError, match="geo.Address"):
        canonical.parse(ORDER)


def test_nested_references_are_loaded_dependencies_first() -> None:
    country = canonical.ResolvedReference(
        reference=Reference(name="geo.Country", subject="country", version=1),
        schema_id=7,
        schema='{"type":"enum","name":"Country","namespace":"geo","symbols":["NL","FR"]}',
    )
    address = canonical.ResolvedReference(
        reference=Reference(name="geo.Address", subject="addr", version=2),
        schema_id=8,
        schema='{"type":"record","name":"Address","namespace":"geo",'
        '"fields":[{"name":"country","type":"geo.Country"}]}',
        dependencies=(country,),
    )
    parsed = canonical.parse(ORDER, [address])
    assert parsed.avro.fields[0].type.fullname == "geo.Address"


def test_fingerprint_depends_on_the_referenced_content() -> None:
    text = canonical.parse(ORDER, [_address()]).canonical
    assert canonical.fingerprint(text, [_address(1)]) == canonical.fingerprint(text, [_address(1)])
    assert canonical.fingerprint(text, [_address(1)]) != canonical.fingerprint(text, [_address(2)])
    assert canonical.fingerprint(text, []) != canonical.fingerprint(text, [_address(1)])


def test_deeply_nested_but_valid_json_is_refused_before_the_avro_libraries_recurse() -> None:
    schema: object = "int"
    for _ in range(120):
        schema = {"type": "array", "items": schema}
    with pytest.raises(ApiError, match="nests"):
        canonical.parse(json.dumps(schema))
