"""Codec throughput: Clubhouse's AvroCodec against confluent-kafka's serdes and raw fastavro.

Run: ``.venv/bin/python benchmarks/codec.py [--messages N]``

Each row encodes and decodes (with Confluent framing where the path has it) a fixed mix of
built-in messages. Baselines, in the same run:
  (a) confluent-kafka AvroSerializer + AvroDeserializer on its mock registry, with the
      to_dict / from_dict hooks a user would write for these models;
  (b) fastavro's schemaless writer + reader on Avro dicts built in advance (the floor).
Targets: Clubhouse >= 1.5x (a) and >= 0.6x (b). It also times model_to_avro on 1,000
generated models, beside pydantic's own model_json_schema.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from uuid import uuid4

import fastavro
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from pydantic import BaseModel, Field, create_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import best_rates, table
from clubhouse.agents.messages import (
    AgentStateChangedEvent,
    CreateAgentCommand,
    MessageProcessedResponse,
    ProcessMessageCommand,
)
from clubhouse.avro import AvroCodec, compile_model, frame, model_to_avro, unframe


def message_mix(count: int) -> list[BaseModel]:
    rng = random.Random(7)
    makers = [
        lambda i: ProcessMessageCommand(
            agent_id=f"agent-{i % 50}",
            content="What is the weather like today? " * rng.randint(1, 4),
            conversation_id=f"conv-{i}",
            metadata={"source": "bench", "n": i, "tags": ["a", "b"]},
        ),
        lambda i: CreateAgentCommand(agent_id=f"agent-{i}", metadata={"team": "x"}),
        lambda i: MessageProcessedResponse(
            in_response_to=uuid4(), agent_id="agent-1", content="Sunny.", metadata={}
        ),
        lambda i: AgentStateChangedEvent(
            agent_id="agent-1", previous_state="idle", current_state="busy", metadata={"i": i}
        ),
    ]
    return [makers[i % len(makers)](i) for i in range(count)]


def json_fields(schema: dict[str, Any]) -> list[str]:
    return [
        f["name"]
        for f in schema["fields"]
        if isinstance(f["type"], dict) and f["type"].get("logicalType") == "json"
    ]


def confluent_pair(model: type[BaseModel], client: SchemaRegistryClient) -> tuple[Any, Any]:
    schema = model_to_avro(model)
    jf = json_fields(schema)

    def to_dict(obj: BaseModel, ctx: SerializationContext) -> dict[str, Any]:
        d = obj.model_dump()
        for name in jf:
            d[name] = json.dumps(d[name])
        return d

    def from_dict(d: dict[str, Any], ctx: SerializationContext) -> BaseModel:
        for name in jf:
            d[name] = json.loads(d[name])
        return model.model_validate(d)

    text = json.dumps(schema)
    client.register_schema(f"bench-{model.__name__}-value", Schema(text, "AVRO"))
    ser = AvroSerializer(
        client,
        text,
        to_dict,
        {
            "auto.register.schemas": False,
            "use.latest.version": True,
            "subject.name.strategy": lambda ctx, rn: f"bench-{model.__name__}-value",
        },
    )
    de = AvroDeserializer(client, text, from_dict)
    return ser, de


def bench_codecs(messages: list[BaseModel]) -> list[tuple[str, float]]:
    models = {type(m) for m in messages}
    codecs = {m: AvroCodec(m) for m in models}
    ids = {m: i + 1 for i, m in enumerate(sorted(models, key=lambda m: m.__name__))}

    def clubhouse() -> int:
        for msg in messages:
            codec = codecs[type(msg)]
            _, body = unframe(frame(ids[type(msg)], codec.encode(msg)))
            codec.decode(body)
        return len(messages)

    client = SchemaRegistryClient.new_client({"url": "mock://codec-bench"})
    pairs = {m: confluent_pair(m, client) for m in models}
    ctx = SerializationContext("bench", MessageField.VALUE)

    def confluent() -> int:
        for msg in messages:
            ser, de = pairs[type(msg)]
            de(ser(msg, ctx), ctx)
        return len(messages)

    parsed = {m: fastavro.parse_schema(model_to_avro(m)) for m in models}
    to_avro = {m: compile_model(m).to_avro for m in models}
    datums = [(parsed[type(m)], to_avro[type(m)](m)) for m in messages]

    def raw() -> int:
        for schema, datum in datums:
            out = BytesIO()
            fastavro.schemaless_writer(out, schema, datum)
            fastavro.schemaless_reader(BytesIO(out.getvalue()), schema, None)
        return len(datums)

    for check in (clubhouse, confluent, raw):  # warm caches and prove each path works
        check()
    ours, theirs, floor = best_rates([clubhouse, confluent, raw])
    return [
        ("clubhouse AvroCodec + framing", ours),
        ("(a) confluent AvroSerializer/Deserializer", theirs),
        ("(b) fastavro raw dicts (floor)", floor),
    ]


_FIELD_TYPES: list[tuple[Any, Any]] = [
    (int, 0),
    (str, ""),
    (float, 0.0),
    (bool, False),
    (datetime, ...),
    (date, ...),
    (timedelta, ...),
    (list[int], ...),
    (dict[str, Any], ...),
    (str | None, None),
    (dict[str, float], ...),
    (Decimal, Field(max_digits=10, decimal_places=2)),
]


def generated_models(count: int) -> list[type[BaseModel]]:
    rng = random.Random(11)
    models = []
    for i in range(count):
        fields = {
            f"f{j}": _FIELD_TYPES[rng.randrange(len(_FIELD_TYPES))]
            for j in range(rng.randint(3, 15))
        }
        models.append(create_model(f"Generated{i}", **fields))
    return models


def bench_conversion(count: int) -> list[tuple[str, float]]:
    models = generated_models(count)
    start = time.perf_counter()
    for m in models:
        model_to_avro(m)
    ours = count / (time.perf_counter() - start)
    start = time.perf_counter()
    for m in models:
        m.model_json_schema()
    theirs = count / (time.perf_counter() - start)
    return [("model_to_avro", ours), ("pydantic model_json_schema (reference)", theirs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--models", type=int, default=1_000)
    args = parser.parse_args()

    rows = bench_codecs(message_mix(args.messages))
    ours, conf, raw = (r[1] for r in rows)
    print(
        f"Encode + decode of {args.messages} mixed built-in messages, best of 5 interleaved rounds"
    )
    print(
        table(
            ["path", "msg/s", "clubhouse ratio"],
            [(name, f"{rate:,.0f}", f"{ours / rate:.2f}x") for name, rate in rows],
        )
    )
    print(f"\nvs (a) confluent serdes: {ours / conf:.2f}x (target >= 1.5x)")
    print(f"vs (b) fastavro floor:   {ours / raw:.2f}x (target >= 0.6x)")

    conv = bench_conversion(args.models)
    print(f"\nSchema conversion of {args.models} generated models")
    print(table(["converter", "models/s"], [(n, f"{r:,.0f}") for n, r in conv]))
    print(f"model_to_avro vs model_json_schema: {conv[0][1] / conv[1][1]:.2f}x")


if __name__ == "__main__":
    main()
