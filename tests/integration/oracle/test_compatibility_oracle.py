"""Differential tests: ``clubhouse.avro.compatibility`` and Java Avro's ``SchemaCompatibility``
give the same verdict on every golden schema pair and on a seeded corpus of evolutions.

The corpus is ``CORPUS`` evolutions (tests/integration/oracle/evolutions.py), each checked in
both directions. Each corpus goes to Java in one batch and is one test; a failure lists every
pair that disagrees, an evolution by its seed, so ``evolution(seed)`` reproduces it.
"""

from __future__ import annotations

import collections
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import avro.compatibility
import avro.schema
import pytest

from clubhouse.avro.compatibility import check_pair
from tests.avro_records import record
from tests.integration.oracle.disagreements import Disagreements
from tests.integration.oracle.evolutions import CHANGES, evolution
from tests.java.avro_oracle import AvroOracle, Compatibility, OracleError

pytestmark = pytest.mark.integration

GOLDEN = sorted((Path(__file__).resolve().parents[2] / "golden").glob("*.avsc"))
CORPUS = 400


@dataclass(frozen=True, slots=True)
class Pair:
    """One verdict to compare: may ``reader`` read data written with ``writer``?"""

    name: str
    reader: str
    writer: str
    # Golden schemas are named by their files; generated ones are only readable in full.
    show_schemas: bool = True


Verdicts = list[tuple[Pair, Compatibility | OracleError]]


def ours(reader: str, writer: str) -> bool:
    return not check_pair(avro.schema.parse(reader), avro.schema.parse(writer))


def stock(reader: str, writer: str) -> bool:
    checker = avro.compatibility.ReaderWriterCompatibilityChecker()
    result = checker.get_compatibility(avro.schema.parse(reader), avro.schema.parse(writer))
    return result.compatibility is avro.compatibility.SchemaCompatibilityType.compatible


def java_verdicts(oracle: AvroOracle, pairs: Sequence[Pair]) -> Verdicts:
    """Java's verdict on every pair, asked in one round trip."""
    answers = oracle.compatibilities([(pair.reader, pair.writer) for pair in pairs])
    return list(zip(pairs, answers, strict=True))


def disagreements(corpus: str, verdicts: Verdicts) -> Disagreements:
    """Every pair where ``check_pair``'s verdict is not Java's (or Java refused the pair)."""
    found = Disagreements(corpus)
    for pair, answer in verdicts:
        schemas = f"\nreader: {pair.reader}\nwriter: {pair.writer}" if pair.show_schemas else ""
        if isinstance(answer, OracleError):
            found.add(pair.name, f"Java refused the pair: {answer}{schemas}")
            continue
        java, why = answer
        mine = ours(pair.reader, pair.writer)
        if mine is not java:
            reasons = f": {json.dumps(why)}" if why else ""
            found.add(pair.name, f"ours {mine}, Java {java}{reasons}{schemas}")
    return found


def golden_pairs() -> list[Pair]:
    return [
        Pair(f"{reader.stem} reads {writer.stem}", reader.read_text(), writer.read_text(),
             show_schemas=False)
        for reader, writer in itertools.product(GOLDEN, repeat=2)
    ]  # fmt: skip


def evolution_pairs() -> list[Pair]:
    """Each evolution of the corpus in both directions, named by seed, changes and direction."""
    pairs = []
    for seed in range(CORPUS):
        case = evolution(seed)
        name = f"seed {seed} {list(case.changes)}"
        pairs.append(Pair(f"{name}, new reads old", case.new, case.old))
        pairs.append(Pair(f"{name}, old reads new", case.old, case.new))
    return pairs


@pytest.fixture(scope="module")
def golden_verdicts(avro_oracle: AvroOracle) -> Verdicts:
    return java_verdicts(avro_oracle, golden_pairs())


@pytest.fixture(scope="module")
def evolution_verdicts(avro_oracle: AvroOracle) -> Verdicts:
    return java_verdicts(avro_oracle, evolution_pairs())


def test_golden_pairs_agree_with_java(golden_verdicts: Verdicts) -> None:
    assert len(golden_verdicts) == len(GOLDEN) ** 2
    disagreements("golden schema pairs", golden_verdicts).check(len(golden_verdicts))


def test_every_golden_schema_reads_itself(golden_verdicts: Verdicts) -> None:
    itself = [(pair, answer) for pair, answer in golden_verdicts if pair.reader == pair.writer]
    assert len(itself) == len(GOLDEN)
    unread = [p.name for p, answer in itself if isinstance(answer, OracleError) or not answer[0]]
    assert unread == []


def test_generated_evolutions_agree_with_java(evolution_verdicts: Verdicts) -> None:
    assert len(evolution_verdicts) == 2 * CORPUS
    disagreements("evolution pairs", evolution_verdicts).check(len(evolution_verdicts))


def test_the_corpus_covers_every_change_and_both_verdicts(evolution_verdicts: Verdicts) -> None:
    applied: collections.Counter[str] = collections.Counter()
    for seed in range(CORPUS):
        case = evolution(seed)
        assert case.changes, f"seed {seed} applied no change"
        applied.update(case.changes)
    verdicts = collections.Counter(
        answer[0] for _, answer in evolution_verdicts if not isinstance(answer, OracleError)
    )
    assert {c for c in CHANGES if applied[c] < 5} == set()
    assert verdicts[True] >= CORPUS // 4
    assert verdicts[False] >= CORPUS // 4


def test_the_corpus_is_reproducible() -> None:
    assert evolution(7) == evolution(7)
    assert evolution(7) != evolution(8)


# The one deliberate difference from the avro package: record aliases are resolved in the
# reader's namespace (docs/compatibility-semantics.md). Java is the referee.
ALIAS_CASES = [
    Pair("same-namespace", record("New", ("a", "int"), namespace="ns", aliases=["Old"]),
         record("Old", ("a", "int"), namespace="ns")),
    Pair("no-namespace", record("New", ("a", "int"), namespace="ns", aliases=["Old"]),
         record("Old", ("a", "int"))),
]  # fmt: skip


def test_record_aliases_follow_java_where_the_avro_package_differs(
    avro_oracle: AvroOracle,
) -> None:
    verdicts = java_verdicts(avro_oracle, ALIAS_CASES)
    found = disagreements("alias cases", verdicts)
    for pair, answer in verdicts:
        if not isinstance(answer, OracleError) and stock(pair.reader, pair.writer) is answer[0]:
            found.add(pair.name, "the avro package agrees with Java here: no difference shown")
    found.check(len(verdicts))
