"""The pure comparison: verdicts by level, reasons as `Model.path: rule`, transitive targets."""

from __future__ import annotations

from typing import Any

import avro.schema
import pytest
from pydantic import BaseModel, Field, create_model

from clubhouse.avro import compatibility
from clubhouse.avro.compatibility import CompatibilityLevel as LevelRules
from clubhouse.contracts import Command
from clubhouse.evolution import compare, parse_schema
from clubhouse.messaging.subjects import model_schema
from clubhouse.services.kafka_protocol import COMPATIBILITY_LEVELS


def order(**fields: Any) -> avro.schema.Schema:
    model: type[BaseModel] = create_model("Order", __base__=Command, **fields)
    return parse_schema(model_schema(model), where="test")


V1 = order(sku=(str, ...), qty=(int, ...))
ADDED = order(sku=(str, ...), qty=(int, ...), priority=(int, ...))
DEFAULTED = order(sku=(str, ...), qty=(int, ...), priority=(int, 0))
REMOVED = order(qty=(int, ...))
RETYPED = order(sku=(str, ...), qty=(str, ...))


def reasons(candidate: avro.schema.Schema, *previous: avro.schema.Schema, level: Any) -> list[str]:
    versions = list(enumerate(previous, start=1))
    return [r.explain() for r in compare("Order", candidate, versions, level).reasons]


def test_reason_reads_model_field_rule() -> None:
    result = compare("Order", ADDED, [(1, V1)], "BACKWARD")

    assert not result.compatible
    (reason,) = result.reasons
    assert str(reason) == "Order.priority: reader field missing default value"
    assert (reason.version, reason.direction) == (1, "backward")
    assert reason.explain() == (
        "Order.priority: reader field missing default value (new schema cannot read v1 data)"
    )


def test_forward_reasons_name_the_old_readers_field() -> None:
    assert reasons(REMOVED, V1, level="FORWARD") == [
        "Order.sku: reader field missing default value "
        "(v1 cannot read data written with the new schema)"
    ]


def test_type_change_breaks_both_directions_with_detail() -> None:
    assert reasons(RETYPED, V1, level="FULL") == [
        "Order.qty: type mismatch (new schema cannot read v1 data; "
        "reader type: string not compatible with writer type: long)",
        "Order.qty: type mismatch (v1 cannot read data written with the new schema; "
        "reader type: long not compatible with writer type: string)",
    ]


@pytest.mark.parametrize("level", COMPATIBILITY_LEVELS)
@pytest.mark.parametrize("candidate", [ADDED, DEFAULTED, REMOVED, RETYPED])
def test_verdict_is_the_registry_checkers_verdict(
    level: Any, candidate: avro.schema.Schema
) -> None:
    previous = [(1, V1), (2, DEFAULTED)]

    result = compare("Order", candidate, previous, level)

    assert result.messages == tuple(compatibility.check(LevelRules(level), candidate, previous))
    assert result.compatible == (not result.messages)
    assert bool(result.reasons) == (not result.compatible)


def test_transitive_levels_compare_with_every_version() -> None:
    # ADDED reads DEFAULTED's data (priority always present) but not V1's.
    latest = compare("Order", ADDED, [(1, V1), (2, DEFAULTED)], "BACKWARD")
    every = compare("Order", ADDED, [(1, V1), (2, DEFAULTED)], "BACKWARD_TRANSITIVE")

    assert (latest.compatible, latest.compared) == (True, (2,))
    assert (every.compatible, every.compared) == (False, (1, 2))
    assert [(str(r), r.version) for r in every.reasons] == [
        ("Order.priority: reader field missing default value", 1)
    ]


def test_none_and_first_versions_are_always_compatible() -> None:
    assert compare("Order", RETYPED, [(1, V1)], "NONE").compatible
    assert compare("Order", RETYPED, [], "FULL_TRANSITIVE").compatible


def test_nested_paths() -> None:
    class Line(BaseModel):
        sku: str

    class LineV2(BaseModel):
        sku: int

    LineV2.__name__ = "Line"
    old = order(lines=(list[Line], Field(default_factory=list)))
    new = order(lines=(list[LineV2], Field(default_factory=list)))

    assert [str(r) for r in compare("Order", new, [(1, old)], "BACKWARD").reasons] == [
        "Order.lines[].sku: type mismatch"
    ]
