"""The work a compatibility check does grows linearly with a record's width.

Counted, never timed: how often a writer's field map is built, and how many messages,
locations and incompatibilities the intermediate results carry in total. The stock
``avro`` checker builds the map once per reader field and re-copies the growing result
sets once per field, both quadratic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import avro.compatibility
import avro.schema
import pytest

from clubhouse.avro.compatibility import check_pair

WIDTH = 400


def wide(prefix: str, width: int = WIDTH, **field_extra: Any) -> avro.schema.Schema:
    fields = [{"name": f"{prefix}{i}", "type": "long", **field_extra} for i in range(width)]
    return avro.schema.parse(json.dumps({"type": "record", "name": "Wide", "fields": fields}))


class WorkCounter:
    def __init__(self) -> None:
        self.field_maps = 0
        self.result_items = 0


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkCounter]:
    counter = WorkCounter()
    field_map = avro.schema.RecordSchema.fields_dict.fget
    assert field_map is not None

    def counted_field_map(self: avro.schema.RecordSchema) -> dict[str, Any]:
        counter.field_maps += 1
        return field_map(self)  # type: ignore[no-any-return]

    result_init = avro.compatibility.SchemaCompatibilityResult.__init__

    def counted_init(self: Any, *args: Any, **kwargs: Any) -> None:
        result_init(self, *args, **kwargs)
        counter.result_items += (
            len(self.incompatibilities) + len(self.messages) + len(self.locations)
        )

    monkeypatch.setattr(avro.schema.RecordSchema, "fields_dict", property(counted_field_map))
    monkeypatch.setattr(avro.compatibility.SchemaCompatibilityResult, "__init__", counted_init)
    yield counter


def test_a_compatible_wide_record_builds_the_writer_field_map_once(work: WorkCounter) -> None:
    reader, writer = wide("f"), wide("f")
    assert check_pair(reader, writer) == []
    assert work.field_maps == 1
    assert work.result_items <= 10 * WIDTH


def test_many_missing_defaults_are_collected_in_linear_work(work: WorkCounter) -> None:
    problems = check_pair(wide("new"), wide("old"))
    assert len(problems) == WIDTH
    assert {p.path for p in problems} == {f"new{i}" for i in range(WIDTH)}
    assert work.result_items <= 10 * WIDTH


def test_aliased_fields_of_a_wide_record_are_found_without_rebuilding_the_map(
    work: WorkCounter,
) -> None:
    fields = [{"name": f"new{i}", "type": "long", "aliases": [f"old{i}"]} for i in range(WIDTH)]
    reader = avro.schema.parse(json.dumps({"type": "record", "name": "Wide", "fields": fields}))
    assert check_pair(reader, wide("old")) == []
    assert work.field_maps == 1
