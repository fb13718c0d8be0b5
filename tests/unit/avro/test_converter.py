"""One test per row of the Avro mapping policy, plus the converter's error cases."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import avro.schema
import fastavro
import pytest
from pydantic import BaseModel, Field

from clubhouse.avro import AvroCodec, SchemaConversionError, canonical_json, model_to_avro
from tests.unit.avro import future_models
from tests.unit.avro.sample_models import Cat, ContainersOfOptionals, Dog, Kind, Priority


def fields_of(model: type[BaseModel], **kw: Any) -> dict[str, dict[str, Any]]:
    schema = model_to_avro(model, **kw)
    return {f["name"]: f for f in schema["fields"]}


def assert_parses(schema: dict[str, Any]) -> None:
    fastavro.parse_schema(schema)
    avro.schema.parse(json.dumps(schema))


def test_primitives() -> None:
    class P(BaseModel):
        s: str
        b: bool
        raw: bytes
        i: int
        f: float

    f = fields_of(P)
    assert [f[n]["type"] for n in ("s", "b", "raw", "i", "f")] == [
        "string", "boolean", "bytes", "long", "double",
    ]  # fmt: skip
    assert all("default" not in v for v in f.values())


def test_optional_with_none_default_puts_null_first() -> None:
    class O(BaseModel):
        a: int | None = None

    assert fields_of(O)["a"] == {"name": "a", "type": ["null", "long"], "default": None}


def test_optional_with_value_default_puts_value_first() -> None:
    class O(BaseModel):
        a: int | None = 7

    assert fields_of(O)["a"] == {"name": "a", "type": ["long", "null"], "default": 7}


def test_datetime_date_time_logical_types_and_defaults() -> None:
    class T(BaseModel):
        at: datetime = datetime(1970, 1, 1, 0, 0, 1, 5)
        day: date = date(1970, 1, 11)
        clock: time = time(0, 0, 2, 3)

    f = fields_of(T)
    assert f["at"]["type"] == {"type": "long", "logicalType": "timestamp-micros"}
    assert f["at"]["default"] == 1_000_005  # naive defaults are read as UTC
    assert f["day"]["type"] == {"type": "int", "logicalType": "date"}
    assert f["day"]["default"] == 10
    assert f["clock"]["type"] == {"type": "long", "logicalType": "time-micros"}
    assert f["clock"]["default"] == 2_000_003


def test_uuid_is_string_uuid() -> None:
    class U(BaseModel):
        u: UUID = UUID(int=1)

    f = fields_of(U)["u"]
    assert f["type"] == {"type": "string", "logicalType": "uuid"}
    assert f["default"] == "00000000-0000-0000-0000-000000000001"


def test_decimal_with_precision_and_scale() -> None:
    class D(BaseModel):
        amount: Decimal = Field(max_digits=12, decimal_places=3, default=Decimal("-1.5"))
        nested: Annotated[Decimal, Field(max_digits=5, decimal_places=1)] | None = None

    f = fields_of(D)
    assert f["amount"]["type"] == {
        "type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 3,
    }  # fmt: skip
    # -1500 as two's complement big-endian bytes, written as a latin-1 string per the spec.
    assert f["amount"]["default"].encode("latin-1") == (-1500).to_bytes(2, "big", signed=True)
    assert f["nested"]["type"][1]["precision"] == 5


def test_decimal_without_precision_fails_with_path() -> None:
    class D(BaseModel):
        amount: Decimal

    with pytest.raises(SchemaConversionError, match=r"^D\.amount: Decimal needs both max_digits"):
        model_to_avro(D)


def test_timedelta_is_duration_micros() -> None:
    class W(BaseModel):
        wait: timedelta = timedelta(seconds=1, microseconds=2)

    f = fields_of(W)["wait"]
    assert f["type"] == {"type": "long", "logicalType": "duration-micros"}
    assert f["default"] == 1_000_002


def test_enums_use_member_names_as_symbols() -> None:
    class E(BaseModel):
        p: Priority = Priority.HIGH
        k: Kind

    f = fields_of(E)
    assert f["p"]["type"] == {"type": "enum", "name": "Priority", "symbols": ["LOW", "HIGH"]}
    assert f["p"]["default"] == "HIGH"
    assert f["k"]["type"]["symbols"] == ["CREATE", "DELETE"]
    assert_parses(model_to_avro(E))


def test_literals_become_their_value_type_with_allowed_values_in_doc() -> None:
    class L(BaseModel):
        mode: Literal["fast", "slow"] = Field("fast", description="How fast.")
        level: Literal[1, 2, 3] = 1

    f = fields_of(L)
    assert f["mode"]["type"] == "string"
    assert f["mode"]["doc"] == "How fast. Allowed values: 'fast', 'slow'."
    assert f["level"]["type"] == "long"
    assert "Allowed values: 1, 2, 3." in f["level"]["doc"]


def test_sequences_and_sets_are_arrays() -> None:
    class A(BaseModel):
        a: list[int]
        b: tuple[str, ...]
        c: set[float]
        d: frozenset[bool]

    f = fields_of(A)
    assert [f[n]["type"]["items"] for n in "abcd"] == ["long", "string", "double", "boolean"]
    assert all(f[n]["type"]["type"] == "array" for n in "abcd")


def test_containers_of_optionals_have_nullable_items() -> None:
    f = fields_of(ContainersOfOptionals)
    assert f["scores"]["type"] == {"type": "array", "items": ["null", "long"]}
    assert f["ratings"]["type"] == {"type": "array", "items": ["null", "long"]}
    assert f["ratings"]["default"] == []
    assert f["labels"]["type"] == {"type": "map", "values": ["null", "string"]}
    assert f["nested"]["type"] == [
        "null",
        {"type": "array", "items": {"type": "array", "items": ["null", "double"]}},
    ]
    assert_parses(model_to_avro(ContainersOfOptionals))


def test_containers_of_optionals_round_trip_nulls() -> None:
    codec = AvroCodec(ContainersOfOptionals)
    value = ContainersOfOptionals(
        scores=[1, None], ratings=[None], labels={"a": None, "b": "x"}, nested=[[None, 1.5]]
    )
    assert codec.decode(codec.encode(value)) == value


def test_fixed_tuple_is_refused() -> None:
    class A(BaseModel):
        pair: tuple[int, str]

    with pytest.raises(SchemaConversionError, match=r"A\.pair: fixed-length"):
        model_to_avro(A)


def test_str_keyed_dicts_are_maps_and_other_keys_fail() -> None:
    class M(BaseModel):
        counts: dict[str, int]

    assert fields_of(M)["counts"]["type"] == {"type": "map", "values": "long"}

    class Bad(BaseModel):
        by_id: dict[int, str]

    with pytest.raises(SchemaConversionError, match=r"Bad\.by_id: map keys must be str"):
        model_to_avro(Bad)


def test_any_and_untyped_containers_are_json_strings() -> None:
    class J(BaseModel):
        a: Any = None
        b: dict[str, Any]
        c: list[Any]
        d: dict[str, Any] | None = None

    f = fields_of(J)
    json_type = {"type": "string", "logicalType": "json"}
    assert f["a"] == {"name": "a", "type": json_type, "default": "null"}
    assert f["b"]["type"] == json_type
    assert f["c"]["type"] == json_type
    assert f["d"]["type"] == ["null", json_type]


class Address(BaseModel):
    """A postal address."""

    city: str


def test_nested_model_defined_once_then_referenced_by_full_name() -> None:
    class Person(BaseModel):
        home: Address
        work: Address | None = None
        past: list[Address] = []

    schema = model_to_avro(Person, namespace="acme")
    f = {x["name"]: x for x in schema["fields"]}
    assert f["home"]["type"] == {
        "name": "Address", "type": "record", "namespace": "acme", "doc": "A postal address.",
        "fields": [{"name": "city", "type": "string"}],
    }  # fmt: skip
    assert f["work"]["type"] == ["null", "acme.Address"]
    assert f["past"]["type"] == {"type": "array", "items": "acme.Address"}
    assert_parses(schema)


def test_recursive_model() -> None:
    class Node(BaseModel):
        value: int
        children: list[Node] = []

    Node.model_rebuild()
    schema = model_to_avro(Node)
    assert schema["fields"][1]["type"] == {"type": "array", "items": "Node"}
    assert_parses(schema)


def test_unions_keep_declaration_order() -> None:
    class U(BaseModel):
        plain: int | str
        pet: Cat | Dog = Field(discriminator="pet")

    f = fields_of(U)
    assert f["plain"]["type"] == ["long", "string"]
    assert [b["name"] for b in f["pet"]["type"]] == ["Cat", "Dog"]


def test_union_default_branch_moves_first() -> None:
    class U(BaseModel):
        x: int | str = "a"

    assert fields_of(U)["x"] == {"name": "x", "type": ["string", "long"], "default": "a"}


def test_union_with_two_same_avro_types_is_refused() -> None:
    class U(BaseModel):
        when: datetime | int

    with pytest.raises(SchemaConversionError, match=r"U\.when: union .* more than one Avro long"):
        model_to_avro(U)


def test_docs_come_from_description_and_own_docstring_only() -> None:
    class Documented(BaseModel):
        """Documented model."""

        a: int = Field(description="The a.")

    class Undocumented(BaseModel):
        a: int

    schema = model_to_avro(Documented)
    assert schema["doc"] == "Documented model."
    assert schema["fields"][0]["doc"] == "The a."
    assert "doc" not in model_to_avro(Undocumented)  # never pydantic's own BaseModel docstring


def test_serialization_alias_is_the_avro_name() -> None:
    class A(BaseModel):
        kind: str = Field(serialization_alias="type")
        other: int = Field(alias="otherName")

    assert list(fields_of(A)) == ["type", "otherName"]


def test_invalid_alias_is_refused() -> None:
    class A(BaseModel):
        kind: str = Field(serialization_alias="my-kind")

    with pytest.raises(SchemaConversionError, match=r"A\.kind: field name 'my-kind'"):
        model_to_avro(A)


def test_default_factory_leaves_field_required() -> None:
    class F(BaseModel):
        tags: list[str] = Field(default_factory=list)
        meta: dict[str, Any] = Field(default_factory=dict)

    assert all("default" not in f for f in fields_of(F).values())


def test_future_annotations_module() -> None:
    schema = model_to_avro(future_models.Tree)
    f = {x["name"]: x for x in schema["fields"]}
    assert f["when"]["type"]["logicalType"] == "timestamp-micros"
    assert f["level"]["type"]["symbols"] == ["LOW", "HIGH"]
    assert f["left"]["type"] == ["null", "Tree"]
    assert f["leaves"]["type"]["items"]["name"] == "Leaf"
    assert f["extra"]["type"] == {"type": "string", "logicalType": "json"}
    assert_parses(schema)


def test_three_level_inheritance_lists_fields_base_first() -> None:
    class A(BaseModel):
        a: int

    class B(A):
        b: str

    class C(B):
        """Third level."""

        c: bool

    schema = model_to_avro(C)
    assert [f["name"] for f in schema["fields"]] == ["a", "b", "c"]
    assert schema["doc"] == "Third level."


def test_namespace_from_argument_or_class_attribute() -> None:
    class N(BaseModel):
        __avro_namespace__ = "from.attr"
        a: int

    assert model_to_avro(N)["namespace"] == "from.attr"
    assert model_to_avro(N, namespace="from.arg")["namespace"] == "from.arg"


def test_two_classes_with_one_name_are_refused() -> None:
    def make() -> type[BaseModel]:
        class Same(BaseModel):
            x: int

        return Same

    first, second = make(), make()

    class Holder(BaseModel):
        a: first  # type: ignore[valid-type]
        b: second  # type: ignore[valid-type]

    with pytest.raises(SchemaConversionError, match=r"two different classes are both named"):
        model_to_avro(Holder)


@pytest.mark.parametrize(
    ("annotation", "fragment"),
    [(complex, "complex"), (type, "type"), (dict[tuple[int, int], int], "map keys")],
)
def test_unsupported_types_name_model_field_and_type(annotation: Any, fragment: str) -> None:
    from pydantic import ConfigDict, create_model

    model = create_model(
        "Odd", __config__=ConfigDict(arbitrary_types_allowed=True), inner=(annotation, ...)
    )
    with pytest.raises(SchemaConversionError) as err:
        model_to_avro(model)
    assert str(err.value).startswith("Odd.inner")
    assert fragment in str(err.value)


def test_nested_unsupported_type_reports_full_path() -> None:
    from pydantic import ConfigDict

    class Inner(BaseModel):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        bad: list[complex]

    class Outer(BaseModel):
        inner: Inner

    with pytest.raises(SchemaConversionError, match=r"^Outer\.inner\.bad\[\]: unsupported"):
        model_to_avro(Outer)


def test_canonical_json_is_deterministic_and_order_independent() -> None:
    schema = model_to_avro(future_models.Tree)
    shuffled = json.loads(json.dumps(schema, sort_keys=True))
    assert canonical_json(schema) == canonical_json(shuffled)
    assert canonical_json(model_to_avro(future_models.Tree)) == canonical_json(schema)
    assert canonical_json(schema).startswith('{"name":"Tree","type":"record"')
