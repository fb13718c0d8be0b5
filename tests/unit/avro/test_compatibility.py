"""Compatibility levels on top of the avro package's checker, and the messages they produce."""

from __future__ import annotations

import json
import subprocess
import sys

import avro.schema
import pytest

from clubhouse.avro import compatibility as compat
from clubhouse.avro.compatibility import CompatibilityLevel as Level
from clubhouse.services.kafka_protocol import COMPATIBILITY_LEVELS
from tests.avro_records import record


def schema(text: str) -> avro.schema.Schema:
    return avro.schema.parse(text)


V1 = schema(record("U", ("a", "int")))
ADD_WITH_DEFAULT = schema(record("U", ("a", "int"), ("b", "string", "x")))
ADD_WITHOUT_DEFAULT = schema(record("U", ("a", "int"), ("b", "string")))
CHANGE_TYPE = schema(record("U", ("a", "string")))


@pytest.mark.parametrize(
    ("level", "candidate", "compatible"),
    [
        (Level.BACKWARD, ADD_WITH_DEFAULT, True),
        (Level.BACKWARD, ADD_WITHOUT_DEFAULT, False),
        (Level.FORWARD, ADD_WITHOUT_DEFAULT, True),
        (Level.FULL, ADD_WITHOUT_DEFAULT, False),
        (Level.FULL, ADD_WITH_DEFAULT, True),
        (Level.BACKWARD, CHANGE_TYPE, False),
        (Level.FORWARD, CHANGE_TYPE, False),
        (Level.NONE, CHANGE_TYPE, True),
    ],
)
def test_levels_check_the_right_direction(
    level: Level, candidate: avro.schema.Schema, compatible: bool
) -> None:
    assert (compat.check(level, candidate, [(1, V1)]) == []) is compatible


def test_int_to_long_promotion_is_backward_but_not_forward_compatible() -> None:
    widened = schema(record("U", ("a", "long")))
    assert compat.check(Level.BACKWARD, widened, [(1, V1)]) == []
    assert compat.check(Level.FORWARD, widened, [(1, V1)]) != []


# v1 has `a`; v2 drops it; v3 brings `a` back as a string with a default. v3 reads v2's
# data (the default fills in) but not v1's (an int is not a string).
HISTORY = [
    (1, schema(record("U", ("a", "int"), ("k", "string")))),
    (2, schema(record("U", ("k", "string")))),
]
V3 = schema(record("U", ("k", "string"), ("a", "string", "none")))


@pytest.mark.parametrize("level", [Level.BACKWARD, Level.FULL])
def test_transitive_levels_check_every_version_non_transitive_only_the_latest(level: Level) -> None:
    transitive = Level(f"{level.value}_TRANSITIVE")
    assert compat.check(level, V3, HISTORY) == []
    problems = compat.check(transitive, V3, HISTORY)
    assert problems
    assert all("version 1" in p for p in problems)


def test_forward_transitive_differs_from_forward() -> None:
    history = [
        (1, schema(record("U", ("a", "int")))),
        (2, schema(record("U", ("a", "int", 0)))),
    ]
    dropped = schema(record("U", ("c", "string", "")))
    assert compat.check(Level.FORWARD, dropped, history) == []
    assert compat.check(Level.FORWARD_TRANSITIVE, dropped, history) != []


def test_messages_name_the_version_the_field_path_and_the_reason() -> None:
    old = schema(
        record(
            "Order",
            ("id", "long"),
            (
                "ship",
                {"type": "record", "name": "Addr", "fields": [{"name": "zip", "type": "int"}]},
            ),
        )
    )
    new = schema(
        record(
            "Order",
            ("id", "string"),
            (
                "ship",
                {
                    "type": "record",
                    "name": "Addr",
                    "fields": [
                        {"name": "zip", "type": "int"},
                        {"name": "street", "type": "string"},
                    ],
                },
            ),
        )
    )
    problems = compat.check(Level.BACKWARD, new, [(4, old)])
    assert len(problems) == 2
    text = "\n".join(problems)
    assert "version 4" in text
    assert "'id'" in text
    assert "reader type: string not compatible with writer type: long" in text
    assert "'ship.street'" in text
    assert "no default" in text


def test_several_missing_defaults_in_one_record_each_get_their_own_message() -> None:
    new = schema(record("U", ("a", "int"), ("b", "int"), ("c", "int")))
    problems = compat.check(Level.BACKWARD, new, [(1, V1)])
    assert len(problems) == 2
    assert any("'b'" in p and "field 'b'" in p for p in problems)
    assert any("'c'" in p and "field 'c'" in p for p in problems)


def test_enum_symbol_removal_and_record_rename_are_reported() -> None:
    old = schema('{"type":"enum","name":"E","symbols":["A","B"]}')
    new = schema('{"type":"enum","name":"E","symbols":["A"]}')
    (problem,) = compat.check(Level.BACKWARD, new, [(1, old)])
    assert "'B'" in problem
    renamed = schema(record("V", ("a", "int")))
    (problem,) = compat.check(Level.BACKWARD, renamed, [(1, V1)])
    assert "names differ" in problem


def test_no_previous_versions_is_always_compatible() -> None:
    assert compat.check(Level.FULL_TRANSITIVE, CHANGE_TYPE, []) == []


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        (
            "clubhouse.avro.compatibility",
            ("clubhouse.registry", "clubhouse.services", "clubhouse.messaging"),
        ),
        ("clubhouse.evolution", ("clubhouse.registry", "starlette", "uvicorn")),
    ],
)
def test_the_checker_comes_without_the_registry_server(
    module: str, forbidden: tuple[str, ...]
) -> None:
    code = (
        f"import sys, {module}\n"
        f"print('\\n'.join(m for m in sys.modules if m.startswith({forbidden!r})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    assert loaded == []


def test_the_levels_match_the_registry_protocols_names() -> None:
    assert tuple(level.value for level in Level) == COMPATIBILITY_LEVELS


# Record aliases are names relative to the reader's namespace (the Avro spec, and Java's
# SchemaCompatibility); the avro package compares them unqualified with the writer's full name.
def _named(name: str, namespace: str | None = None, aliases: list[str] | None = None) -> str:
    extra: dict[str, object] = {}
    if namespace is not None:
        extra["namespace"] = namespace
    if aliases is not None:
        extra["aliases"] = aliases
    return record(name, ("a", "int"), **extra)


def test_an_unqualified_record_alias_is_resolved_in_the_readers_namespace() -> None:
    reader = schema(_named("New", "ns", aliases=["Old"]))
    assert compat.check_pair(reader, schema(_named("Old", "ns"))) == []


def test_an_unqualified_record_alias_does_not_name_a_type_outside_the_namespace() -> None:
    reader = schema(_named("New", "ns", aliases=["Old"]))
    problems = compat.check_pair(reader, schema(_named("Old")))
    assert [p.kind.value for p in problems] == ["name_mismatch"]
    assert "expected: Old" in problems[0].describe()


def test_a_qualified_record_alias_names_a_type_in_another_namespace() -> None:
    reader = schema(_named("New", "ns", aliases=["other.Old"]))
    assert compat.check_pair(reader, schema(_named("Old", "other"))) == []
    assert compat.check_pair(reader, schema(_named("Old", "ns"))) != []


def test_a_nested_record_alias_is_resolved_in_the_namespace_it_inherits() -> None:
    def outer(inner_name: str, aliases: list[str] | None = None) -> str:
        inner = json.loads(_named(inner_name, aliases=aliases))
        return record("Outer", ("inner", inner), namespace="ns")

    reader = schema(outer("NewInner", aliases=["OldInner"]))
    assert compat.check_pair(reader, schema(outer("OldInner"))) == []
