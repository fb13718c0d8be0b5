"""Registration speed: SchemaRegistrator cold and warm against a naive register loop.

Run: ``.venv/bin/python benchmarks/registration.py [--models 200] [--workers 8]``

Everything runs against real embedded registry processes (fresh databases), started through
the dev-stack supervisor. Three timings over the same generated models:
  naive - one ``SchemaRegistryClient.register_schema`` call per model, in a loop;
  cold  - ``SchemaRegistrator.register_all_schemas()`` on an empty registry;
  warm  - the same again with a new client, as a second deployment would run it.
Targets: cold <= 0.5x naive, warm <= 0.25x cold.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from pydantic import create_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import table
from clubhouse.contracts import BaseMessage, Command, MessageCatalog
from clubhouse.devstack import RegistryConfig, RegistryServer
from clubhouse.messaging.schema_registrator import SchemaRegistrator
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings

_TYPES: list[Any] = [int, str, float, bool, datetime, list[str], dict[str, int], str | None]


def generated_catalog(count: int) -> MessageCatalog:
    rng = random.Random(5)
    catalog = MessageCatalog([BaseMessage, Command])
    for i in range(count):
        fields: dict[str, Any] = {"message_type": (str, f"command.bench_{i}")}
        for j in range(rng.randint(2, 10)):
            tp = rng.choice(_TYPES)
            fields[f"f{j}"] = (tp, None) if tp == str | None else (tp, ...)
        catalog.add(create_model(f"Bench{i}Command", __base__=Command, **fields))
    return catalog


def registry_server(directory: Path, name: str) -> RegistryServer:
    return RegistryServer(
        RegistryConfig(db_path=directory / f"{name}.db", log_path=directory / f"{name}.log")
    )


def naive(url: str, catalog: MessageCatalog) -> float:
    client = SchemaRegistryClient({"url": url})
    start = time.perf_counter()
    for model in catalog:
        client.register_schema(subject_name("bench", model), Schema(model_schema(model), "AVRO"))
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def registrator(url: str, catalog: MessageCatalog, workers: int) -> tuple[float, int]:
    registry = ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[url]))
    start = time.perf_counter()
    report = SchemaRegistrator(
        registry, catalog, "bench", max_workers=workers
    ).register_all_schemas()
    elapsed = time.perf_counter() - start
    registry.close()
    if not report.ok:
        raise SystemExit(f"registration failed: {report.failed[0].error}")
    return elapsed, report.registered_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    catalog = generated_catalog(args.models)
    for model in catalog:  # convert up front: this benchmark is about the registry round trips
        model_schema(model)

    with (
        tempfile.TemporaryDirectory() as tmp,
        registry_server(Path(tmp), "naive") as a,
        registry_server(Path(tmp), "registrator") as b,
    ):
        t_naive = naive(a.url, catalog)
        t_cold, n_cold = registrator(b.url, catalog, args.workers)
        t_warm, n_warm = registrator(b.url, catalog, args.workers)

    n = len(catalog)
    print(f"Registering {n} schemas ({args.models} generated models + 2 bases), "
          f"{args.workers} workers, embedded registry on loopback")  # fmt: skip
    print(table(
        ["run", "seconds", "schemas/s", "ratio"],
        [
            ("naive register_schema loop", f"{t_naive:.2f}", f"{n / t_naive:,.0f}", "1.00x naive"),
            ("SchemaRegistrator cold", f"{t_cold:.2f}", f"{n_cold / t_cold:,.0f}",
             f"{t_cold / t_naive:.2f}x naive"),
            ("SchemaRegistrator warm", f"{t_warm:.2f}", f"{n_warm / t_warm:,.0f}",
             f"{t_warm / t_cold:.2f}x cold"),
        ],
    ))  # fmt: skip
    print(f"\ncold / naive = {t_cold / t_naive:.2f} (target <= 0.5)")
    print(f"warm / cold  = {t_warm / t_cold:.2f} (target <= 0.25)")


if __name__ == "__main__":
    main()
