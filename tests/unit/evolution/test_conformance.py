"""Values against Avro schemas: every violation with its path, Python and JSON forms alike."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel, Field

from clubhouse.evolution import parse_schema
from clubhouse.messaging.subjects import model_schema
from clubhouse.validation import Violation, violations


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Line(BaseModel):
    sku: str
    qty: int
    price: Decimal = Field(max_digits=6, decimal_places=2)


class Order(BaseModel):
    id: Any = None
    placed: datetime
    due: date | None = None
    ttl: timedelta = timedelta(seconds=5)
    colour: Colour = Colour.RED
    lines: list[Line] = Field(default_factory=list)
    tags: dict[str, int] = Field(default_factory=dict)
    ref: str | None = None


SCHEMA = parse_schema(model_schema(Order), where="test")
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_a_valid_instance_and_its_json_form_conform() -> None:
    order = Order(
        id={"any": [1, 2]},
        placed=NOW,
        due=date(2024, 6, 1),
        colour=Colour.BLUE,
        lines=[Line(sku="a", qty=2, price=Decimal("12.50"))],
        tags={"x": 1},
        ref=str(uuid4()),
    )
    as_json = json.loads(order.model_dump_json())
    as_json["colour"] = "BLUE"  # Avro enums carry symbol names

    assert violations(SCHEMA, order) == []
    assert violations(SCHEMA, as_json) == []


def test_every_violation_is_reported_with_its_path() -> None:
    bad = {
        "id": {"json": "is fine"},
        "placed": "not a time",
        "due": "2024-13-40",
        "ttl": "forever",
        "colour": "GREEN",
        "lines": [
            {"sku": "a", "qty": 1, "price": "1.234"},
            {"qty": 2**63, "price": "99999.00"},
            "oops",
        ],
        "tags": {"ok": 1, "bad": "x"},
        "ref": 5,
        "unknown": True,
    }

    found = violations(SCHEMA, bad)

    assert found == [
        Violation("placed", "long (timestamp-micros)", "string 'not a time'"),
        Violation("due", "null | int (date)", "string '2024-13-40'"),
        Violation("ttl", "long (duration-micros)", "string 'forever'"),
        Violation("colour", "enum Colour {RED, BLUE}", "string 'GREEN'"),
        Violation("lines[0].price", "bytes (decimal 6,2)", "string '1.234'"),
        Violation("lines[1].sku", "string", "missing"),
        Violation("lines[1].qty", "long", f"int {2**63}"),
        Violation("lines[1].price", "bytes (decimal 6,2)", "string '99999.00'"),
        Violation("lines[2]", "record Line", "string 'oops'"),
        Violation("tags['bad']", "long", "string 'x'"),
        Violation("ref", "null | string", "int 5"),
        Violation("unknown", "nothing (Order has no such field)", "boolean true"),
    ]
    assert str(found[5]) == "lines[1].sku: expected string, found missing"


def test_fields_with_defaults_may_be_omitted_but_required_ones_may_not() -> None:
    # default_factory fields have no Avro default: they are required on the wire.
    assert violations(SCHEMA, {"placed": 0, "lines": [], "tags": {}}) == []
    assert violations(SCHEMA, {}) == [
        Violation("placed", "long (timestamp-micros)", "missing"),
        Violation("lines", "array<record Line>", "missing"),
        Violation("tags", "map<long>", "missing"),
    ]
    assert violations(SCHEMA, []) == [Violation("", "record Order", "array of 0")]


def test_unions_of_records_report_inside_the_closest_branch() -> None:
    schema = parse_schema(
        json.dumps(
            {
                "type": "record",
                "name": "Box",
                "fields": [
                    {
                        "name": "item",
                        "type": [
                            "null",
                            {
                                "type": "record",
                                "name": "Book",
                                "fields": [{"name": "isbn", "type": "string"}],
                            },
                            {
                                "type": "record",
                                "name": "Pen",
                                "fields": [
                                    {"name": "ink", "type": "string"},
                                    {"name": "width", "type": "int"},
                                ],
                            },
                        ],
                    }
                ],
            }
        ),
        where="test",
    )

    assert violations(schema, {"item": {"ink": "blue", "width": "thin"}}) == [
        Violation("item.width", "int", "string 'thin'")
    ]
    assert violations(schema, {"item": ("Book", {"isbn": 1})}) == [
        Violation("item.isbn", "string", "int 1")
    ]
    assert violations(schema, {"item": None}) == []


@pytest.mark.parametrize(
    ("avro_type", "good", "bad"),
    [
        ("int", 2**31 - 1, 2**31),
        ("long", -(2**63), True),
        ("double", 1, "1.0"),
        ("boolean", False, 0),
        ("bytes", b"\x00", 1),
        ({"type": "fixed", "name": "F", "size": 2}, b"ab", b"abc"),
        ({"type": "string", "logicalType": "uuid"}, "90551f56-d3b4-4401-9d8b-a0a21c7dbcff", "123"),
    ],
)
def test_primitive_ranges_and_kinds(avro_type: Any, good: Any, bad: Any) -> None:
    schema = parse_schema(json.dumps(avro_type), where="test")

    assert violations(schema, good) == []
    assert len(violations(schema, bad)) == 1
