"""The service benchmark's job as a FastStream app: the benchmark's FastStream peer.

Run by ``benchmarks/service.py --peers`` as a child process:
``python benchmarks/peers/faststream_echo.py BOOTSTRAP PREFIX CONTRACT_JSON``.

Each Confluent-framed Avro ``ProcessMessageCommand`` on ``{prefix}-commands`` bumps its key's
count and is answered, on the same key, with a framed ``MessageProcessedResponse`` on
``{prefix}-responses`` and an ``AgentThinkingEvent`` on ``{prefix}-events``: what the Clubhouse
echo agent publishes, so ``ClubhouseClient`` reads it as the answer. The schemas and their
registered ids come from the contract file (``contract.py``); the Avro is fastavro's.

Ack after publish: the handler awaits the broker's acknowledgement of both records, and
FastStream commits the command's offset only when the handler has returned
(``AckPolicy.ACK``), so a crash redelivers rather than loses a command. The count lives in
process memory: FastStream has no state store, and the peer adds none. One offset commit per
command is FastStream's way with this policy; seen here, those commits can queue up ahead of
the consumer's heartbeat until the group session (6 s, the benchmark's shared setting) times
out, and the rebalance stalls a burst for ~20 s: the best burst of the rounds is reported.

The ``confluent`` extra (``pip install 'faststream[confluent]==0.7.8'``), not the aiokafka
one: it runs on confluent-kafka, the librdkafka client that Clubhouse and the benchmark's
driver use, so the comparison is of the frameworks, not of two Kafka clients, and the same
consumer settings (``fetch.wait.max.ms=10``, the group timeouts) apply. FastStream is a
benchmark peer only, never a Clubhouse dependency; without it the benchmark skips this peer.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
from faststream import AckPolicy, FastStream
from faststream.confluent import KafkaBroker
from faststream.confluent.annotations import KafkaMessage

READY_LINE = "faststream-echo: RUNNING"
HEADER = 5  # Confluent framing: magic byte 0, then the schema id in 4 big-endian bytes


class Codec:
    """One message type's schema id and parsed schema: framed Avro in and out."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.schema_id: int = entry["id"]
        self.schema = fastavro.parse_schema(json.loads(entry["schema"]))
        self.prefix = b"\0" + self.schema_id.to_bytes(4, "big")

    def decode(self, data: bytes) -> dict[str, Any] | None:
        """The datum, or None when ``data`` is not framed under this schema's id."""
        if not data.startswith(self.prefix):
            return None
        datum: dict[str, Any] = fastavro.schemaless_reader(io.BytesIO(data[HEADER:]), self.schema)
        return datum

    def encode(self, datum: dict[str, Any]) -> bytes:
        out = io.BytesIO()
        out.write(self.prefix)
        fastavro.schemaless_writer(out, self.schema, datum)
        return out.getvalue()


def build(bootstrap: str, prefix: str, contract: dict[str, Any]) -> FastStream:
    """The app: one subscriber on the commands topic, two publishers."""
    command, response, event = (Codec(contract[r]) for r in ("command", "response", "event"))
    broker = KafkaBroker(
        bootstrap,
        # Idempotent and murmur2-partitioned, as Clubhouse's producers are: a key's answer
        # goes to the partition the Java client (and Kafka Streams) would pick.
        enable_idempotence=True,
        partitioner="murmur2_random",
        # FastStream logs every message received and processed at ``log_level``, INFO by
        # default; at DEBUG its logger drops them, as a production app would want.
        log_level=logging.DEBUG,
    )
    responses = broker.publisher(f"{prefix}-responses")
    events = broker.publisher(f"{prefix}-events")
    counts: dict[bytes, int] = {}

    @broker.subscriber(
        f"{prefix}-commands",
        group_id=f"{prefix}-faststream",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        fetch_max_wait_ms=10,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    async def handle(message: KafkaMessage) -> None:
        raw = message.raw_message
        if isinstance(raw, tuple):  # batch subscribers only; this one is not
            return
        cmd = command.decode(message.body)
        if cmd is None:
            return
        key = raw.key() or b""
        counts[key] = counts.get(key, 0) + 1
        now = datetime.now(UTC)
        answer_id, event_id = uuid.uuid4(), uuid.uuid4()
        answer = response.encode({
            "message_id": answer_id, "timestamp": now,
            "message_type": "response.message_processed", "in_response_to": cmd["message_id"],
            "agent_id": cmd["agent_id"], "content": cmd["content"],
            "conversation_id": cmd["conversation_id"], "metadata": '{"agent":"echo"}',
        })  # fmt: skip
        thinking = event.encode({
            "message_id": event_id, "timestamp": now, "message_type": "event.agent_thinking",
            "agent_id": cmd["agent_id"],
        })  # fmt: skip
        await asyncio.gather(
            responses.publish(answer, key=key, headers={
                "message_type": "response.message_processed", "message_id": str(answer_id)}),
            events.publish(thinking, key=key, headers={
                "message_type": "event.agent_thinking", "message_id": str(event_id)}),
        )  # fmt: skip

    async def ready() -> None:
        print(READY_LINE, flush=True)

    return FastStream(broker, after_startup=[ready])


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        raise SystemExit("usage: faststream_echo.py BOOTSTRAP PREFIX CONTRACT_JSON")
    bootstrap, prefix, contract = argv
    app = build(bootstrap, prefix, json.loads(Path(contract).read_text()))
    asyncio.run(app.run())  # FastStream stops on SIGTERM and SIGINT


if __name__ == "__main__":
    main(sys.argv[1:])
