"""The service's per-command CPU, stage by stage, in-process and without Kafka.

Run: ``.venv/bin/python benchmarks/command_path.py [--commands 2000] [--rounds 5]``
(``--profile`` prints a cProfile of the full processor path instead).

Drives what the service does with one ``ProcessMessageCommand`` for an existing echo agent:

  decode    - ``MessageSerde.deserialize`` of the framed command bytes
  dispatch  - ``Dispatcher.dispatch`` with the built-in agent app, the agent's state read
              from a dict (the store is measured in the last row, not here)
  encode    - ``RecordBuilder.record`` for every output (the response and the event)

and, as a check that the stages add up, the whole ``CommandProcessor.process`` on a SQLite
state store in a temporary file, in batches of 200 as the service loop runs it (dedupe,
persisted state and outcome included). Serde schema ids come from confluent-kafka's mock
registry, as in ``clubhouse.testing``.

The baseline, in the same run: fastavro's schemaless writer and reader on the same
command as a prepared Avro dict, no models; each stage is also printed as a ratio of it.
Every figure is the best of ``--rounds`` interleaved rounds, in CPU microseconds per command.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import fastavro
from confluent_kafka.schema_registry import SchemaRegistryClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import table
from clubhouse.agents.app import builtin_app
from clubhouse.agents.messages import CreateAgentCommand, ProcessMessageCommand
from clubhouse.application import Dispatcher
from clubhouse.application.context import State
from clubhouse.application.dispatch import Dispatched
from clubhouse.avro import compile_model
from clubhouse.contracts import BaseMessage, Command
from clubhouse.messaging.outbound import Origin, RecordBuilder
from clubhouse.messaging.processor import CommandProcessor
from clubhouse.messaging.schema_registrator import SchemaRegistrator
from clubhouse.messaging.serde import MessageSerde
from clubhouse.runtime.partitions import PartitionState
from clubhouse.runtime.state_store import PartitionStore
from clubhouse.services.kafka_protocol import ConsumedRecord
from clubhouse.services.schema_registry import ConfluentSchemaRegistry

PREFIX = "bench-path"
AGENT_ID = "bench-agent"
CONTENT = "The quick brown fox jumps over the lazy dog; benchmark payload 0123456789."
BATCH = 200  # the service loop's default batch size
SOURCE = f"{PREFIX}-commands/0/"


class CommandPath:
    """Everything one run needs: serde, dispatcher, record builder and processor."""

    def __init__(self, db: Path) -> None:
        client = SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})
        registry = ConfluentSchemaRegistry(client)
        app = builtin_app(prefix=PREFIX)
        catalog = app.catalog()
        report = SchemaRegistrator(registry, catalog, PREFIX).register_all_schemas()
        if not report.ok:
            raise SystemExit(f"registration failed: {report.failed[0].error}")
        self.serde = MessageSerde(registry, catalog, PREFIX)
        self.serde.prepare()
        self.dispatcher = Dispatcher(app)
        self.records = RecordBuilder(self.serde, PREFIX)
        self.partition = PartitionState(0, PartitionStore(db), epoch=1)
        self.processor = CommandProcessor(self.serde, self.dispatcher, PREFIX, records=self.records)
        agent = CreateAgentCommand(agent_id=AGENT_ID, personality_type="echo")
        create = self.serde.serialize(agent)
        created = self.processor.process(
            ConsumedRecord(f"{PREFIX}-commands", 0, 0, AGENT_ID.encode(), create), self.partition
        )
        if created.kind != "command":
            raise SystemExit(f"creating the agent failed: {created}")
        self.partition.committed(1)
        entry = self.partition.get(AGENT_ID)
        if entry is None or entry.state is None:
            raise SystemExit("the agent has no state after CreateAgentCommand")
        self.state: State = entry.state

    def read_state(self, key: str) -> State | None:
        # The store hands out a fresh dict each time; so does this.
        return dict(self.state) if key == AGENT_ID else None


def framed_commands(serde: MessageSerde, count: int) -> list[bytes]:
    return [
        serde.serialize(
            ProcessMessageCommand(agent_id=AGENT_ID, content=CONTENT, conversation_id="bench")
        )
        for _ in range(count)
    ]


def timed(run: Callable[[], int]) -> float:
    """CPU microseconds per operation of one call of ``run``, which returns its op count.

    CPU, not wall-clock, time: the processor's batch commit waits for an fsync, which costs
    the service no CPU (and the end-to-end benchmark counts CPU too).
    """
    start = time.process_time()
    ops = run()
    return (time.process_time() - start) / ops * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=2000, help="commands per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best one counts")
    parser.add_argument("--profile", action="store_true", help="cProfile the processor path")
    args = parser.parse_args()
    n: int = args.commands

    with tempfile.TemporaryDirectory(prefix="clubhouse-path-") as tmp:
        p = CommandPath(Path(tmp) / "state.db")
        values = framed_commands(p.serde, n)
        # Commands for the full path must be new each round, or they are duplicates.
        fresh = iter(lambda: framed_commands(p.serde, n), None)
        key = AGENT_ID.encode()
        offset = 0

        decoded: list[BaseMessage] = []
        dispatched: list[tuple[Command, Dispatched]] = []

        def decode() -> int:
            decoded[:] = [p.serde.deserialize(v) for v in values]
            return n

        def dispatch() -> int:
            results = []
            for message in decoded:
                assert isinstance(message, Command)
                results.append((message, p.dispatcher.dispatch(message, p.read_state)))
            dispatched[:] = results
            return n

        def encode() -> int:
            for command, result in dispatched:
                origin = Origin(command.message_id, key, SOURCE + "1")
                for output in result.outputs:
                    p.records.record(output, origin)
            return n

        def processor(batch_values: list[bytes]) -> int:
            nonlocal offset
            for start in range(0, len(batch_values), BATCH):
                for value in batch_values[start : start + BATCH]:
                    offset += 1
                    record = ConsumedRecord(f"{PREFIX}-commands", 0, offset, key, value)
                    done = p.processor.process(record, p.partition)
                    if done.kind != "command":
                        raise SystemExit(f"unexpected outcome: {done}")
                p.partition.committed(offset)  # what the loop does once the batch is in Kafka
            return len(batch_values)

        model_schema = compile_model(ProcessMessageCommand)
        parsed = fastavro.parse_schema(model_schema.schema)
        datum = model_schema.to_avro(
            ProcessMessageCommand(agent_id=AGENT_ID, content=CONTENT, conversation_id="bench")
        )

        def raw() -> int:
            for _ in range(n):
                out = BytesIO()
                fastavro.schemaless_writer(out, parsed, datum)
                fastavro.schemaless_reader(BytesIO(out.getvalue()), parsed, None)
            return n

        # Warm up every path once (and prove it works).
        decode(), dispatch(), encode(), raw(), processor(next(fresh))

        if args.profile:
            batch_values = next(fresh)
            profiler = cProfile.Profile()
            profiler.runcall(processor, batch_values)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return

        best: dict[str, float] = {}
        for _ in range(args.rounds):
            batch_values = next(fresh)
            round_figures = {
                "decode": timed(decode),
                "dispatch": timed(dispatch),
                "encode": timed(encode),
                "processor": timed(lambda b=batch_values: processor(b)),  # type: ignore[misc]
                "raw": timed(raw),
            }
            for name, us in round_figures.items():
                best[name] = min(best.get(name, float("inf")), us)
        p.partition.store.close()

    stages = best["decode"] + best["dispatch"] + best["encode"]
    floor = best["raw"]

    def row(name: str, us: float) -> list[Any]:
        return [name, f"{us:.1f}", f"{us / floor:.1f}x"]

    print(
        f"ProcessMessageCommand for an existing echo agent: {n} commands a round, best of "
        f"{args.rounds} rounds, microseconds per command"
    )
    print()
    print(
        table(
            ["stage", "us/command", "vs floor"],
            [
                row("decode (MessageSerde.deserialize)", best["decode"]),
                row("dispatch (Dispatcher, builtin app)", best["dispatch"]),
                row("encode (RecordBuilder.record x2)", best["encode"]),
                row("total of the stages", stages),
                row("CommandProcessor.process + partition store", best["processor"]),
                row("  of which outside the stages", best["processor"] - stages),
                row("floor: fastavro encode+decode", floor),
            ],
        )
    )


if __name__ == "__main__":
    main()
