"""Property-based round trips: decode(encode(x)) == x for every built-in contract."""

from __future__ import annotations

import json
from typing import Any

import avro.schema
import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, create_model

from clubhouse.agents.messages import agents_catalog
from clubhouse.avro import AvroCodec, frame, unframe
from tests.unit.avro import future_models
from tests.unit.avro.strategies import annotations, for_annotation, for_model

CATALOG = list(agents_catalog())


@pytest.mark.parametrize("model", CATALOG, ids=lambda m: m.__name__)
def test_every_builtin_round_trips(model: type[BaseModel]) -> None:
    codec = AvroCodec(model)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(for_model(model), st.integers(0, 2**32 - 1))
    def check(instance: BaseModel, schema_id: int) -> None:
        assert type(instance) is model
        sid, body = unframe(frame(schema_id, codec.encode(instance)))
        assert sid == schema_id
        assert codec.decode(body) == instance

    check()


@settings(max_examples=40, deadline=None)
@given(for_model(future_models.Leaf), st.lists(st.text(max_size=5), max_size=3))
def test_generated_recursive_instances_round_trip(leaf: BaseModel, names: list[str]) -> None:
    codec = AvroCodec(future_models.Tree)
    tree = None
    for name in names:
        tree = future_models.Tree.model_validate(
            {"name": name, "when": "2021-01-01T00:00:00.000001Z", "left": tree, "leaves": [leaf]}
        )
    if tree is not None:
        assert codec.decode(codec.encode(tree)) == tree


@pytest.mark.parametrize("model", CATALOG, ids=lambda m: m.__name__)
def test_every_builtin_schema_parses_with_fastavro_and_avro(model: type[BaseModel]) -> None:
    codec = AvroCodec(model)
    fastavro.parse_schema(codec.schema)
    parsed = avro.schema.parse(codec.schema_json)
    assert parsed.fullname == f"clubhouse.messages.{model.__name__}"
    assert json.loads(codec.schema_json) == codec.schema


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(annotations, st.data())
def test_generated_annotations_convert_and_round_trip(tp: Any, data: st.DataObject) -> None:
    model = create_model("Generated", value=(tp, ...))
    codec = AvroCodec(model)
    instance = model(value=data.draw(for_annotation(tp)))
    assert codec.decode(codec.encode(instance)) == instance
