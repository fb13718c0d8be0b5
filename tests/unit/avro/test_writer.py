"""The compiled writer writes exactly fastavro's bytes, and leaves what it cannot to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from clubhouse.agents.messages import agents_catalog
from clubhouse.avro import AvroCodec, compile_model
from clubhouse.avro.writer import Unhandled, compile_writer
from tests.unit.avro.strategies import for_model

CATALOG = list(agents_catalog())


def _fastavro(schema: dict[str, Any], datum: Any) -> bytes:
    out = BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), datum)
    return out.getvalue()


@pytest.mark.parametrize("model", CATALOG, ids=lambda m: m.__name__)
def test_every_builtin_is_written_as_fastavro_writes_it(model: type[BaseModel]) -> None:
    compiled = compile_model(model)
    codec = AvroCodec(model)
    write = codec._fast_writer
    assert write is not None

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(for_model(model))
    def check(instance: BaseModel) -> None:
        datum = compiled.to_avro(instance)
        assert write(datum) == _fastavro(codec.schema, datum)

    check()


_FIELDS: list[tuple[Any, Any]] = [
    ("string", st.text()),
    ("long", st.integers(-(2**63), 2**63 - 1)),
    ("int", st.integers(-(2**31), 2**31 - 1)),
    ("boolean", st.booleans()),
    ("double", st.floats()),
    (["null", "string"], st.none() | st.text()),
    (["long", "null"], st.none() | st.integers(-(2**63), 2**63 - 1)),
    (
        {"type": "long", "logicalType": "timestamp-micros"},
        st.datetimes(
            min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
        ),
    ),
    ({"type": "string", "logicalType": "json"}, st.text()),
]


@settings(max_examples=300, deadline=None)
@given(st.tuples(*(values for _, values in _FIELDS)))
def test_each_field_type_is_written_as_fastavro_writes_it(values: tuple[Any, ...]) -> None:
    schema = {
        "type": "record",
        "name": "Flat",
        "fields": [{"name": f"f{i}", "type": t} for i, (t, _) in enumerate(_FIELDS)],
    }
    datum = {f"f{i}": v for i, v in enumerate(values)}
    write = compile_writer(schema)
    assert write is not None
    assert write(datum) == _fastavro(schema, datum)


@pytest.mark.parametrize(
    "field_type",
    [
        {"type": "array", "items": "string"},
        {"type": "map", "values": "long"},
        {"type": "enum", "name": "E", "symbols": ["A"]},
        {"type": "record", "name": "Inner", "fields": []},
        "bytes",
        "float",
        {"type": "int", "logicalType": "date"},
        {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2},
        ["null", "string", "long"],
        ["string", "long"],
    ],
    ids=repr,
)
def test_schemas_beyond_flat_records_are_left_to_fastavro(field_type: Any) -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "f", "type": field_type}]}
    assert compile_writer(schema) is None


@pytest.mark.parametrize(
    ("field_type", "value"),
    [
        ("long", True),
        ("long", 2**63),
        ("int", 2**31),
        ("double", 1),
        ("string", b"bytes"),
        ("string", "\ud800"),
        ({"type": "long", "logicalType": "timestamp-micros"}, datetime(2024, 1, 1)),
        ({"type": "long", "logicalType": "timestamp-micros"}, 1_700_000_000_000_000),
        (["null", "string"], ("string", "tuple notation")),
    ],
    ids=repr,
)
def test_values_it_does_not_take_exactly_are_refused(field_type: Any, value: Any) -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "f", "type": field_type}]}
    write = compile_writer(schema)
    assert write is not None
    with pytest.raises((Unhandled, ValueError)):
        write({"f": value})


def test_the_codec_falls_back_to_fastavro_for_such_values() -> None:
    class Stamp(BaseModel):
        when: datetime
        count: int

    codec = AvroCodec(Stamp)
    naive = Stamp(when=datetime(2024, 1, 1, 12), count=2**63 - 1)
    aware = Stamp(when=datetime(2024, 1, 1, 12, tzinfo=UTC) + timedelta(microseconds=7), count=-1)
    for instance in (naive, aware):
        datum = compile_model(Stamp).to_avro(instance)
        assert codec.encode(instance) == _fastavro(codec.schema, datum)
