"""The Avro codec: exact round trips, schema resolution, framing and clear errors."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel, Field, NaiveDatetime

from clubhouse.avro import (
    AvroCodec,
    DecodeError,
    EncodeError,
    FramingError,
    frame,
    model_to_avro,
    unframe,
)
from tests.unit.avro import future_models
from tests.unit.avro.sample_models import Cat, Dog, Kind, Priority


class Part(BaseModel):
    sku: str
    price: Decimal = Field(max_digits=8, decimal_places=2)


class Everything(BaseModel):
    id: UUID = Field(default_factory=uuid4)
    at: datetime
    naive: NaiveDatetime
    wait: timedelta
    priority: Priority
    kind: Kind
    meta: dict[str, Any]
    pet: Cat | Dog = Field(discriminator="pet")
    first: Part
    second: Part | None = None
    parts: list[Part] = []
    tags: set[str] = set()
    scores: dict[str, float] = {}
    either: int | str = 0
    kind_name: str = Field(default="x", serialization_alias="kindName", alias="kindName")


def sample() -> Everything:
    return Everything.model_validate(
        {
            "at": datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-5))),
            "naive": datetime(2024, 1, 1, 12, 0, 0, 1),
            "wait": timedelta(days=-1, microseconds=7),
            "priority": Priority.HIGH,
            "kind": Kind.DELETE,
            "meta": {"nested": {"list": [1, 2.5, None, True, "s"]}, "n": None},
            "pet": {"pet": "dog", "name": "Rex"},
            "first": {"sku": "a", "price": "12.30"},
            "second": {"sku": "b", "price": "-0.01"},
            "parts": [{"sku": "c", "price": "1"}],
            "tags": {"x", "y"},
            "scores": {"a": 1.5},
            "either": "text",
            "kindName": "renamed",
        }
    )


def test_round_trip_of_every_mapping_row_is_exact() -> None:
    codec = AvroCodec(Everything)
    original = sample()
    decoded = codec.decode(codec.encode(original))
    assert decoded == original
    assert decoded.at.utcoffset() == timedelta(0)  # same instant, normalised to UTC
    assert decoded.naive.tzinfo is None
    assert isinstance(decoded.pet, Dog)
    assert decoded.kind is Kind.DELETE


def test_discriminated_union_members_with_identical_fields_are_not_confused() -> None:
    codec = AvroCodec(Everything)
    cat = sample().model_copy(update={"pet": Cat(name="Tom")})
    assert isinstance(codec.decode(codec.encode(cat)).pet, Cat)


def test_future_annotations_recursive_model_round_trips() -> None:
    tree = future_models.Tree(
        name="root",
        when=datetime(2020, 5, 17, 1, 2, 3, 4, tzinfo=UTC),
        level=future_models.Level.HIGH,
        left=future_models.Tree(name="l", when=datetime(2020, 1, 1, tzinfo=UTC)),
        leaves=[future_models.Leaf(value=1)],
        extra={"deep": {"x": [1, {"y": "z"}]}},
    )
    codec = AvroCodec(future_models.Tree)
    assert codec.decode(codec.encode(tree)) == tree


def test_microseconds_survive_for_aware_and_naive_datetimes() -> None:
    decoded = AvroCodec(Everything).decode(AvroCodec(Everything).encode(sample()))
    assert decoded.at.microsecond == 999_999
    assert decoded.naive.microsecond == 1


def test_decimal_out_of_scale_is_an_encode_error() -> None:
    class Money(BaseModel):
        amount: Decimal = Field(max_digits=30, decimal_places=2)

    codec = AvroCodec(Money)
    bad = Money.model_construct(amount=Decimal("1.234"))
    with pytest.raises(EncodeError, match="cannot encode Money"):
        codec.encode(bad)


def test_encode_refuses_other_models() -> None:
    with pytest.raises(EncodeError, match="Part codec cannot encode a Cat"):
        AvroCodec(Part).encode(Cat(name="x"))  # type: ignore[arg-type]


class V1(BaseModel):
    agent_id: str
    content: str


class V2(BaseModel):
    agent_id: str
    content: str
    priority: int = 5
    channel: str | None = None


def test_decode_resolves_an_older_writer_schema_into_the_current_model() -> None:
    old = AvroCodec(V1, namespace="x")
    new = AvroCodec(V2, namespace="x")
    body = old.encode(V1(agent_id="a", content="hi"))
    # Same record name is required by resolution, so both are called V?: rename for the test.
    writer = dict(old.schema, name="V2")
    decoded = new.decode(body, writer_schema=writer)
    assert decoded == V2(agent_id="a", content="hi", priority=5, channel=None)


def test_decode_accepts_writer_schema_as_json_text_and_caches_it() -> None:
    old = AvroCodec(V1)
    new = AvroCodec(V2)
    writer = old.schema_json.replace('"name":"V1"', '"name":"V2"')
    body = old.encode(V1(agent_id="a", content="b"))
    assert new.decode(body, writer_schema=writer).content == "b"
    assert new.decode(body, writer_schema=writer).agent_id == "a"
    assert len(new._writers) == 1


def test_newer_writer_read_by_older_reader_drops_unknown_fields() -> None:
    new = AvroCodec(V2)
    old = AvroCodec(V1)
    body = new.encode(V2(agent_id="a", content="b", priority=9))
    writer = dict(new.schema, name="V1")
    assert old.decode(body, writer_schema=writer) == V1(agent_id="a", content="b")


@pytest.mark.parametrize(
    "data",
    [b"", b"\x02", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", b"\x06ab"],
    ids=["empty", "truncated", "varint-overflow", "short-string"],
)
def test_garbage_bodies_are_decode_errors(data: bytes) -> None:
    with pytest.raises(DecodeError, match="V1"):
        AvroCodec(V1).decode(data)


def test_trailing_bytes_are_a_decode_error() -> None:
    codec = AvroCodec(V1)
    with pytest.raises(DecodeError, match="2 trailing bytes"):
        codec.decode(codec.encode(V1(agent_id="a", content="b")) + b"\x00\x00")


def test_decoded_data_that_fails_model_validation_is_a_decode_error() -> None:
    class Strict(BaseModel):
        n: int = Field(ge=0)

    codec = AvroCodec(Strict)
    body = codec.encode(Strict.model_construct(n=-1))
    with pytest.raises(DecodeError, match="not a valid Strict"):
        codec.decode(body)


def test_frame_and_unframe() -> None:
    framed = frame(258, b"body")
    assert framed == b"\x00\x00\x00\x01\x02body"
    assert unframe(framed) == (258, b"body")


def test_unframe_errors_are_clear() -> None:
    with pytest.raises(FramingError, match="needs at least 5"):
        unframe(b"\x00\x00")
    with pytest.raises(FramingError, match="unknown magic byte 0x7b"):
        unframe(b'{"json": true}')
    with pytest.raises(FramingError, match="does not fit"):
        frame(2**32, b"")


def test_framing_matches_confluent_layout() -> None:
    framed = frame(7, b"x")
    magic, schema_id = struct.unpack(">bI", framed[:5])
    assert (magic, schema_id) == (0, 7)


def test_schema_property_matches_converter() -> None:
    assert AvroCodec(Everything).schema == model_to_avro(Everything)


def test_a_writer_schema_the_model_cannot_resolve_is_a_decode_error() -> None:
    class Retyped(BaseModel):
        agent_id: int
        content: str

    body = AvroCodec(V1).encode(V1(agent_id="a", content="b"))
    writer = AvroCodec(V1).schema_json.replace('"name":"V1"', '"name":"Retyped"')
    with pytest.raises(DecodeError, match=r"as Retyped: the writer schema .*string is not long"):
        AvroCodec(Retyped).decode(body, writer_schema=writer)


def test_a_writer_lacking_a_required_field_is_a_decode_error() -> None:
    body = AvroCodec(V1).encode(V1(agent_id="a", content="b"))
    writer = AvroCodec(V1).schema_json.replace('"name":"V1"', '"name":"Strict"')

    class Strict(BaseModel):
        agent_id: str
        content: str
        channel: str

    with pytest.raises(DecodeError, match="No default value for field channel"):
        AvroCodec(Strict).decode(body, writer_schema=writer)
