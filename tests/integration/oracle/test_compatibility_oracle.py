"""Differential tests: ``clubhouse.avro.compatibility`` and Java Avro's ``SchemaCompatibility``
give the same verdict on every golden schema pair and on a seeded corpus of evolutions.

The corpus is ``CORPUS`` evolutions (tests/integration/oracle/evolutions.py), each checked in
both directions. A disagreement names the seed, so ``evolution(seed)`` reproduces it.
"""

from __future__ import annotations

import collections
import itertools
from pathlib import Path

import avro.compatibility
import avro.schema
import pytest

from clubhouse.avro.compatibility import check_pair
from tests.avro_records import record
from tests.integration.oracle.evolutions import CHANGES, evolution
from tests.java.avro_oracle import AvroOracle

pytestmark = pytest.mark.integration

GOLDEN = sorted((Path(__file__).resolve().parents[2] / "golden").glob("*.avsc"))
CORPUS = 400


def ours(reader: str, writer: str) -> bool:
    return not check_pair(avro.schema.parse(reader), avro.schema.parse(writer))


def stock(reader: str, writer: str) -> bool:
    checker = avro.compatibility.ReaderWriterCompatibilityChecker()
    result = checker.get_compatibility(avro.schema.parse(reader), avro.schema.parse(writer))
    return result.compatibility is avro.compatibility.SchemaCompatibilityType.compatible


@pytest.mark.parametrize(
    ("reader", "writer"),
    list(itertools.product(GOLDEN, repeat=2)),
    ids=lambda p: p.stem,
)
def test_golden_pairs_agree_with_java(avro_oracle: AvroOracle, reader: Path, writer: Path) -> None:
    java, why = avro_oracle.compatibility(reader.read_text(), writer.read_text())
    assert ours(reader.read_text(), writer.read_text()) is java, why


def test_every_golden_schema_reads_itself(avro_oracle: AvroOracle) -> None:
    for path in GOLDEN:
        assert avro_oracle.compatibility(path.read_text(), path.read_text())[0], path.name


@pytest.mark.parametrize("seed", range(CORPUS))
def test_generated_evolution_agrees_with_java(avro_oracle: AvroOracle, seed: int) -> None:
    case = evolution(seed)
    for direction, reader, writer in (("new reads old", case.new, case.old),
                                      ("old reads new", case.old, case.new)):  # fmt: skip
        java, why = avro_oracle.compatibility(reader, writer)
        assert ours(reader, writer) is java, (
            f"seed {seed} {case.changes}, {direction}: Java says {java} ({why})\n"
            f"reader: {reader}\nwriter: {writer}"
        )


def test_the_corpus_covers_every_change_and_both_verdicts(avro_oracle: AvroOracle) -> None:
    applied: collections.Counter[str] = collections.Counter()
    verdicts: collections.Counter[bool] = collections.Counter()
    for seed in range(CORPUS):
        case = evolution(seed)
        assert case.changes, f"seed {seed} applied no change"
        applied.update(case.changes)
        verdicts[avro_oracle.compatibility(case.new, case.old)[0]] += 1
        verdicts[avro_oracle.compatibility(case.old, case.new)[0]] += 1
    assert {c for c in CHANGES if applied[c] < 5} == set()
    assert verdicts[True] >= CORPUS // 4
    assert verdicts[False] >= CORPUS // 4


def test_the_corpus_is_reproducible() -> None:
    assert evolution(7) == evolution(7)
    assert evolution(7) != evolution(8)


# The one deliberate difference from the avro package: record aliases are resolved in the
# reader's namespace (docs/compatibility-semantics.md). Java is the referee.
ALIAS_CASES = [
    (record("New", ("a", "int"), namespace="ns", aliases=["Old"]),
     record("Old", ("a", "int"), namespace="ns")),
    (record("New", ("a", "int"), namespace="ns", aliases=["Old"]),
     record("Old", ("a", "int"))),
]  # fmt: skip


@pytest.mark.parametrize(("reader", "writer"), ALIAS_CASES, ids=["same-namespace", "no-namespace"])
def test_record_aliases_follow_java_where_the_avro_package_differs(
    avro_oracle: AvroOracle, reader: str, writer: str
) -> None:
    java, why = avro_oracle.compatibility(reader, writer)
    assert ours(reader, writer) is java, why
    assert stock(reader, writer) is not java
