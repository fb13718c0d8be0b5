"""Bytes written by ``clubhouse.avro.codec`` read back by Java Avro, and Java's bytes read by
the codec: every built-in contract and generated instances of it round-trip byte for byte.

Java decodes our body, writes it again as Avro binary and as Avro's JSON encoding, and
encodes that JSON once more; all three byte strings must equal ours, and the codec must read
Java's bytes back into an equal instance. Across versions of one contract, Java's schema
resolution and the codec's give the same bytes.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel

from clubhouse.avro import AvroCodec, DecodeError
from clubhouse.contracts import MessageCatalog
from tests.integration.evolution.helpers import order
from tests.java.avro_oracle import AvroOracle, OracleError
from tests.unit.avro import future_models
from tests.unit.avro.strategies import for_model

pytestmark = pytest.mark.integration

CATALOG = list(MessageCatalog.default())
EXAMPLES = 40


def round_trip(oracle: AvroOracle, codec: AvroCodec[BaseModel], instance: BaseModel) -> None:
    ours = codec.encode(instance)
    avro_json, java = oracle.decode(codec.schema_json, ours)
    assert java == ours, f"Java re-encoded {instance!r} differently"
    assert oracle.encode(codec.schema_json, avro_json) == ours, "Java's JSON path differs"
    assert codec.decode(java) == instance


@pytest.mark.parametrize("model", CATALOG, ids=lambda m: m.__name__)
def test_generated_instances_round_trip_through_java(
    avro_oracle: AvroOracle, model: type[BaseModel]
) -> None:
    codec: AvroCodec[BaseModel] = AvroCodec(model)
    seen: list[BaseModel] = []

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(for_model(model))
    def check(instance: BaseModel) -> None:
        seen.append(instance)
        round_trip(avro_oracle, codec, instance)

    check()
    assert seen


def test_a_recursive_model_round_trips_through_java(avro_oracle: AvroOracle) -> None:
    codec: AvroCodec[BaseModel] = AvroCodec(future_models.Tree)
    leaf = future_models.Tree.model_validate({"name": "leaf", "when": "2021-01-01T00:00:00Z"})
    tree = future_models.Tree.model_validate(
        {"name": "root", "when": "1999-12-31T23:59:59.999999+05:00", "left": leaf,
         "level": "high-level", "leaves": [{"value": -(2**40)}], "extra": {"k": [1, None]}}
    )  # fmt: skip
    round_trip(avro_oracle, codec, tree)


def test_bytes_that_do_not_fit_the_schema_are_refused_by_java_too(
    avro_oracle: AvroOracle,
) -> None:
    codec: AvroCodec[BaseModel] = AvroCodec(CATALOG[-1])
    with pytest.raises(Exception, match="trailing bytes|EOF|Malformed|out of"):
        avro_oracle.decode(codec.schema_json, b"\x02\x00\x00\x00\xff\xff")


ORDER_VERSIONS = ["order_v1", "order_added", "order_compatible", "order_defaulted",
                  "order_removed", "order_retyped"]  # fmt: skip


@pytest.mark.parametrize("writer_version", ORDER_VERSIONS)
@pytest.mark.parametrize("reader_version", ORDER_VERSIONS)
def test_schema_resolution_matches_java(
    avro_oracle: AvroOracle, writer_version: str, reader_version: str
) -> None:
    writer: AvroCodec[BaseModel] = AvroCodec(order(writer_version))
    reader: AvroCodec[BaseModel] = AvroCodec(order(reader_version))
    readable, _ = avro_oracle.compatibility(reader.schema_json, writer.schema_json)

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(for_model(writer.model))
    def check(instance: BaseModel) -> None:
        body = writer.encode(instance)
        if not readable:
            with pytest.raises(OracleError):
                avro_oracle.decode(writer.schema_json, body, reader.schema_json)
            with pytest.raises(DecodeError):
                reader.decode(body, writer_schema=writer.schema_json)
            return
        _, java = avro_oracle.decode(writer.schema_json, body, reader.schema_json)
        resolved = reader.decode(body, writer_schema=writer.schema_json)
        assert reader.encode(resolved) == java

    check()
