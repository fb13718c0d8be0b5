"""Bytes written by ``clubhouse.avro.codec`` read back by Java Avro, and Java's bytes read by
the codec: every built-in contract and generated instances of it round-trip byte for byte.

Java decodes our body, writes it again as Avro binary and as Avro's JSON encoding, and
encodes that JSON once more; all three byte strings must equal ours, and the codec must read
Java's bytes back into an equal instance. Across versions of one contract, Java's schema
resolution and the codec's give the same bytes.

Each corpus (all contracts' instances; all version pairs' instances) goes to Java in a batch
or two and is one test; a failure lists every case that disagrees, by model and example.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel

from clubhouse.agents.messages import agents_catalog
from clubhouse.avro import AvroCodec, DecodeError
from tests.integration.evolution.helpers import order
from tests.integration.oracle.disagreements import Disagreements
from tests.java.avro_oracle import AvroOracle, OracleError
from tests.unit.avro import future_models
from tests.unit.avro.strategies import for_model

pytestmark = pytest.mark.integration

CATALOG = list(agents_catalog())
EXAMPLES = 40


def generated(model: type[BaseModel], examples: int) -> list[BaseModel]:
    """Up to ``examples`` instances of ``model``, drawn as a property test would draw them."""
    drawn: list[BaseModel] = []

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(for_model(model))
    def draw(instance: BaseModel) -> None:
        drawn.append(instance)

    draw()
    return drawn


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One instance to send through Java and back, named for the failure report."""

    name: str
    codec: AvroCodec[BaseModel]
    instance: BaseModel


def differ(what: str, ours: bytes, java: bytes) -> str:
    return f"{what}:\n  ours {ours.hex()}\n  Java {java.hex()}"


def round_trips(oracle: AvroOracle, cases: Sequence[RoundTrip], found: Disagreements) -> None:
    """Send every case through Java (two round trips in all); add each that comes back changed."""
    bodies = [case.codec.encode(case.instance) for case in cases]
    decoded = oracle.decodes([(c.codec.schema_json, body, None)
                              for c, body in zip(cases, bodies, strict=True)])  # fmt: skip
    read = []
    for case, body, answer in zip(cases, bodies, decoded, strict=True):
        if isinstance(answer, OracleError):
            found.add(case.name, f"Java could not read our bytes: {answer}\n"
                                 f"instance: {case.instance!r}")  # fmt: skip
        else:
            read.append((case, body, answer))
    # Java's JSON of each datum goes back for Java to encode: the JSON half of the round trip.
    encoded = oracle.encodes([(case.codec.schema_json, avro_json) for case, _, (avro_json, _)
                              in read])  # fmt: skip
    for (case, body, (_, java)), again in zip(read, encoded, strict=True):
        problems = []
        if java != body:
            problems.append(differ("Java re-encoded it differently", body, java))
        if isinstance(again, OracleError):
            problems.append(f"Java could not encode its own JSON: {again}")
        elif again != body:
            problems.append(differ("Java's JSON path differs", body, again))
        try:
            back = case.codec.decode(java)
        except Exception as exc:  # any failure is this case's finding, not the end of the corpus
            problems.append(f"the codec could not read Java's bytes: {exc!r}")
        else:
            if back != case.instance:
                problems.append(f"the codec read Java's bytes as {back!r}")
        if problems:
            found.add(case.name, "\n".join([*problems, f"instance: {case.instance!r}"]))


def test_generated_instances_round_trip_through_java(avro_oracle: AvroOracle) -> None:
    cases = []
    for model in CATALOG:
        codec: AvroCodec[BaseModel] = AvroCodec(model)
        instances = generated(model, EXAMPLES)
        assert instances, model.__name__
        cases += [RoundTrip(f"{model.__name__} example {i}", codec, instance)
                  for i, instance in enumerate(instances)]  # fmt: skip
    found = Disagreements("generated instances")
    round_trips(avro_oracle, cases, found)
    found.check(len(cases))


def test_a_recursive_model_round_trips_through_java(avro_oracle: AvroOracle) -> None:
    codec: AvroCodec[BaseModel] = AvroCodec(future_models.Tree)
    leaf = future_models.Tree.model_validate({"name": "leaf", "when": "2021-01-01T00:00:00Z"})
    tree = future_models.Tree.model_validate(
        {"name": "root", "when": "1999-12-31T23:59:59.999999+05:00", "left": leaf,
         "level": "high-level", "leaves": [{"value": -(2**40)}], "extra": {"k": [1, None]}}
    )  # fmt: skip
    found = Disagreements("recursive instances")
    round_trips(avro_oracle, [RoundTrip("Tree", codec, tree)], found)
    found.check(1)


def test_bytes_that_do_not_fit_the_schema_are_refused_by_java_too(
    avro_oracle: AvroOracle,
) -> None:
    codec: AvroCodec[BaseModel] = AvroCodec(CATALOG[-1])
    with pytest.raises(Exception, match="trailing bytes|EOF|Malformed|out of"):
        avro_oracle.decode(codec.schema_json, b"\x02\x00\x00\x00\xff\xff")


ORDER_VERSIONS = ["order_v1", "order_added", "order_compatible", "order_defaulted",
                  "order_removed", "order_retyped"]  # fmt: skip
RESOLUTION_EXAMPLES = 15


@dataclass(frozen=True, slots=True)
class Resolution:
    """One instance written with ``writer``, to be read as ``reader`` by Java and by the codec."""

    name: str
    writer: AvroCodec[BaseModel]
    reader: AvroCodec[BaseModel]
    instance: BaseModel
    body: bytes
    readable: bool  # Java's verdict on the pair of schemas


def resolution_disagreement(case: Resolution, java: tuple[str, bytes] | OracleError) -> str | None:
    """How the codec's reading of ``case`` differs from Java's, or None when it does not."""
    try:
        resolved = case.reader.decode(case.body, writer_schema=case.writer.schema_json)
    except DecodeError as exc:
        ours: bytes | DecodeError = exc
    except Exception as exc:  # any failure is this case's finding, not the end of the corpus
        return f"the codec failed: {exc!r}"
    else:
        ours = case.reader.encode(resolved)
    if not case.readable:
        java_read, ours_read = not isinstance(java, OracleError), not isinstance(ours, DecodeError)
        if not java_read and not ours_read:
            return None
        return (f"unreadable by Java's verdict, yet read by Java: {java_read}, "
                f"by the codec: {ours_read}")  # fmt: skip
    if isinstance(java, OracleError):
        return f"readable by Java's verdict, yet Java refused it: {java}"
    if isinstance(ours, DecodeError):
        return f"readable by Java's verdict, yet the codec refused it: {ours}"
    if ours != java[1]:
        return differ("resolved bytes differ", ours, java[1])
    return None


def test_schema_resolution_matches_java(avro_oracle: AvroOracle) -> None:
    codecs: dict[str, AvroCodec[BaseModel]] = {v: AvroCodec(order(v)) for v in ORDER_VERSIONS}
    pairs = [(codecs[w], codecs[r], f"{w} read as {r}") for w in ORDER_VERSIONS
             for r in ORDER_VERSIONS]  # fmt: skip
    verdicts = avro_oracle.compatibilities([(r.schema_json, w.schema_json) for w, r, _ in pairs])
    cases: list[Resolution] = []
    for (writer, reader, name), verdict in zip(pairs, verdicts, strict=True):
        assert not isinstance(verdict, OracleError), f"{name}: {verdict}"
        # Fresh instances for every pair, as many as when each pair was a test of its own.
        instances = generated(writer.model, RESOLUTION_EXAMPLES)
        assert instances, name
        cases += [Resolution(f"{name} example {i}", writer, reader, instance,
                             writer.encode(instance), readable=verdict[0])
                  for i, instance in enumerate(instances)]  # fmt: skip
    answers = avro_oracle.decodes([(c.writer.schema_json, c.body, c.reader.schema_json)
                                   for c in cases])  # fmt: skip
    found = Disagreements("schema resolutions")
    for case, java in zip(cases, answers, strict=True):
        problem = resolution_disagreement(case, java)
        if problem is not None:
            found.add(case.name, f"{problem}\ninstance: {case.instance!r}")
    found.check(len(cases))
