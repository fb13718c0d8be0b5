"""The linear schema builder makes what ``avro.schema`` makes, and refuses what it refuses.

The work is counted, never timed: the ``avro`` package's own field builder (which compares
each field name with a list of all the names before it) must receive no fields at all, from
the builder or from either parse path that uses it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import avro.errors
import avro.name
import avro.schema
import pytest

from clubhouse.avro.parsing import parse_schema
from clubhouse.avro.schema_builder import build_schema
from clubhouse.registry import canonical

VALID: list[Any] = [
    "long",
    {"type": "long", "logicalType": "timestamp-millis"},
    ["null", {"type": "long", "logicalType": "timestamp-micros"}, "string"],
    {
        "type": "record",
        "name": "R",
        "namespace": "n",
        "doc": "a record",
        "fields": [
            {"name": "a", "type": "long", "default": 1, "doc": "d", "x-extra": 1},
            {
                "name": "b",
                "type": [
                    "null",
                    {"type": "record", "name": "S", "fields": [{"name": "s", "type": "R"}]},
                ],
                "default": None,
            },
            {"name": "c", "type": {"type": "array", "items": "S", "x": "y"}},
            {
                "name": "d",
                "type": {
                    "type": "map",
                    "values": {"type": "enum", "name": "E", "symbols": ["A", "B"], "default": "A"},
                },
            },
            {"name": "e", "type": {"type": "fixed", "name": "F", "size": 4}},
            {
                "name": "f",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2},
            },
            {"name": "g", "type": "n.E", "order": "descending", "aliases": ["gg"]},
        ],
    },
    {
        "type": "error",
        "name": "X",
        "namespace": "q",
        "fields": [{"name": "z", "type": {"type": "record", "name": "Y", "fields": []}}],
    },
    {
        "type": "record",
        "name": "a.b.R",
        "fields": [
            {"name": "x", "type": {"type": "record", "name": "Q", "fields": []}},
            {"name": "y", "type": "a.b.Q"},
        ],
    },
    {"type": "record", "name": "R", "logicalType": "ignored", "fields": []},
    {"type": "record", "name": "R", "fields": [{"name": "x", "type": ["null", "R"]}]},
]

INVALID: list[Any] = [
    {"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}] * 2},
    ["null", "string", "null"],
    ["null", ["int"]],
    ["null", {"type": "long", "logicalType": "timestamp-micros"}, "long"],
    {"type": "record", "name": "R"},
    {"type": "record", "name": "R", "fields": [{"name": "a"}]},
    {"type": "record", "name": 3, "fields": []},
    {"type": "foo"},
    "Foo",
    ["Foo"],
    {"type": {"type": "string"}},
    {"type": "array"},
    {"type": "map", "values": "Nope"},
    {"type": "record", "name": "R", "fields": [{"name": "", "type": "long"}]},
    {"type": "record", "name": "R", "fields": [{"name": "a", "type": "long", "order": "up"}]},
    {"type": "enum", "name": "E", "symbols": ["A", "A"]},
    {"type": "record", "name": "R", "fields": ["a"]},
]  # fmt: skip


def _names() -> avro.name.Names:
    return avro.name.Names(validate_names=True)


@pytest.mark.parametrize("schema", VALID, ids=lambda s: json.dumps(s)[:40])
def test_builds_what_the_avro_package_builds(schema: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", avro.errors.IgnoredLogicalType)
        stock = avro.schema.make_avsc_object(schema, _names())
        built = build_schema(schema, _names())
    assert type(built) is type(stock)
    assert built.to_json(_names()) == stock.to_json(_names())
    assert built == stock


@pytest.mark.parametrize("schema", INVALID, ids=lambda s: json.dumps(s)[:40])
def test_refuses_what_the_avro_package_refuses(schema: Any) -> None:
    with pytest.raises(avro.errors.AvroException):
        avro.schema.make_avsc_object(schema, _names())
    with pytest.raises(avro.errors.AvroException) as info:
        build_schema(schema, _names())
    assert "{'" not in str(info.value)  # fragments are quoted as JSON, not as Python reprs


def test_a_refusal_names_the_record_and_field() -> None:
    schema = {
        "type": "record",
        "name": "Outer",
        "namespace": "ns",
        "fields": [{"name": "inner", "type": {"type": "array", "items": {"type": "nope"}}}],
    }
    with pytest.raises(avro.errors.SchemaParseException) as info:
        build_schema(schema, _names())
    message = str(info.value)
    assert "field 'inner' of record 'ns.Outer'" in message
    assert '"nope"' in message


WIDTH = 2_000


def _wide() -> dict[str, Any]:
    fields = [{"name": f"f{i}", "type": "long"} for i in range(WIDTH)]
    return {"type": "record", "name": "Wide", "fields": fields}


@pytest.fixture
def stock_field_builder_load(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many fields each call of the ``avro`` package's (quadratic) field builder got."""
    received: list[int] = []
    stock = avro.schema.RecordSchema.make_field_objects

    def counted(field_data: Any, names: Any, validate_names: bool = True) -> Any:
        received.append(len(field_data))
        return stock(field_data, names, validate_names=validate_names)

    monkeypatch.setattr(avro.schema.RecordSchema, "make_field_objects", staticmethod(counted))
    yield received


def test_the_registry_parses_a_wide_record_without_the_quadratic_field_builder(
    stock_field_builder_load: list[int],
) -> None:
    parsed = canonical.parse(json.dumps(_wide()))
    assert isinstance(parsed.avro, avro.schema.RecordSchema)
    assert len(parsed.avro.fields) == WIDTH
    assert parsed.avro.fields[-1].name == f"f{WIDTH - 1}"
    assert sum(stock_field_builder_load) == 0


def test_the_evolution_tools_parse_a_wide_record_without_the_quadratic_field_builder(
    stock_field_builder_load: list[int],
) -> None:
    parsed = parse_schema(json.dumps(_wide()), where="wide.avsc")
    assert isinstance(parsed, avro.schema.RecordSchema)
    assert [f.name for f in parsed.fields] == [f"f{i}" for i in range(WIDTH)]
    assert sum(stock_field_builder_load) == 0
