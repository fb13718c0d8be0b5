"""The one driver of the peers comparison: framed Avro commands in, framed Avro answers back.

It speaks Clubhouse's wire format through Clubhouse's own ``MessageSerde`` (the ids
``ClubhouseClient`` would use) and reads answers the client's way, from the responses
topic's end with a ``read_committed`` consumer, matched by ``in_response_to``. Unlike the
client, it encodes every command before the clock starts and decodes the answers only once
as many records have arrived as commands were sent (each record's arrival time is kept, so
the figure is still the time of the last answer): the fast systems answer tens of thousands
of commands a second, and a driver doing Pydantic work per record inside the timed region
would measure itself. Every answer must be a ``MessageProcessedResponse`` to a command of
this round, or the run fails: an error answer is as fast as a real one.

``burst`` publishes a batch at once and times it to its last answer; ``paced`` sends one
command every ``1/rate`` s and measures each from its scheduled send time (so a driver that
falls behind counts against the system, not for it).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from confluent_kafka import Consumer, Producer, TopicPartition

from clubhouse.agents.messages import MessageProcessedResponse, ProcessMessageCommand
from clubhouse.messaging.serde import MessageSerde
from clubhouse.services.kafka import KafkaConsumer, KafkaSettings

CONTENT = "The quick brown fox jumps over the lazy dog; benchmark payload 0123456789."
TIMEOUT_S = 120.0  # per burst or paced run: a bound on a run gone wrong, not a target

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Encoded:
    """One command, ready to produce."""

    command_id: UUID
    key: bytes
    value: bytes
    headers: Headers


class FramedDriver:
    """Sends commands for ``keys`` round robin to ``{prefix}-commands``; reads the answers."""

    def __init__(
        self, settings: KafkaSettings, serde: MessageSerde, prefix: str, keys: Sequence[str]
    ) -> None:
        self._serde = serde
        self._commands = f"{prefix}-commands"
        self._keys = keys
        self._next = 0
        self._failed: list[str] = []
        # linger.ms=0: a paced command leaves at once instead of waiting out librdkafka's 5 ms.
        conf = {**settings.producer_config(idempotence=True), "linger.ms": 0}
        self._producer = Producer(conf)
        responses = f"{prefix}-responses"
        self._replies = Consumer(
            settings.consumer_config(
                group_id=f"{responses}-driver-{uuid.uuid4().hex}", auto_offset_reset="latest"
            )
        )
        probe = KafkaConsumer(settings)  # the client's way to find the ends: waits out elections
        try:
            ends = probe.end_offsets(responses, timeout=10)
        finally:
            probe.close()
        self._replies.assign([TopicPartition(e.topic, e.partition, e.offset) for e in ends])

    def encode(self, count: int) -> list[Encoded]:
        """``count`` commands, going round the keys; not timed."""
        out: list[Encoded] = []
        for _ in range(count):
            key = self._keys[self._next % len(self._keys)]
            self._next += 1
            cmd = ProcessMessageCommand(agent_id=key, content=CONTENT, conversation_id="bench")
            headers = [("message_type", cmd.message_type.encode()),
                       ("message_id", str(cmd.message_id).encode())]  # fmt: skip
            out.append(Encoded(cmd.message_id, key.encode(), self._serde.serialize(cmd), headers))
        return out

    def burst(self, commands: Sequence[Encoded]) -> float:
        """Publish ``commands`` at once; seconds from the first send to the last answer."""
        start = time.monotonic()
        for c in commands:
            self._produce(c)
        arrivals = self._answers({c.command_id for c in commands})
        return max(arrivals.values()) - start

    def paced(self, commands: Sequence[Encoded], rate: float) -> list[float]:
        """Send one command every ``1 / rate`` s; each one's latency in ms, sorted."""
        start = time.monotonic() + 0.05
        scheduled = {c.command_id: start + i / rate for i, c in enumerate(commands)}
        received: list[tuple[float, bytes]] = []
        for c in commands:
            while (wait := scheduled[c.command_id] - time.monotonic()) > 0:
                received += self._poll(wait)
            self._produce(c)
        arrivals = self._answers(set(scheduled), received)
        return sorted((arrivals[i] - scheduled[i]) * 1000 for i in scheduled)

    def close(self) -> None:
        self._replies.close()
        self._producer.flush(10)

    def _produce(self, c: Encoded) -> None:
        self._producer.produce(self._commands, c.value, c.key, headers=c.headers,
                               on_delivery=self._delivered)  # fmt: skip
        self._producer.poll(0)

    def _delivered(self, err: object, _msg: object) -> None:
        if err is not None:
            self._failed.append(str(err))

    def _poll(self, timeout: float) -> list[tuple[float, bytes]]:
        """The records that arrive within ``timeout`` s, each with its arrival time."""
        first = self._replies.poll(timeout)
        self._producer.poll(0)
        if first is None:
            return []
        now = time.monotonic()
        return [(now, m.value()) for m in [first, *self._replies.consume(1000, 0)]
                if m.error() is None and m.value() is not None]  # fmt: skip

    def _answers(
        self, ids: set[UUID], received: list[tuple[float, bytes]] | None = None
    ) -> dict[UUID, float]:
        """When each of ``ids`` was first answered; raises on a wrong answer or a timeout."""
        pending = set(ids)
        arrivals: dict[UUID, float] = {}
        records = received or []
        decoded = 0
        deadline = time.monotonic() + TIMEOUT_S
        while pending:
            if len(records) - decoded < len(pending):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{len(pending)} of {len(ids)} commands unanswered")
                records += self._poll(0.5)
                continue
            for at, value in records[decoded:]:
                answer = self._serde.deserialize(value)
                if not isinstance(answer, MessageProcessedResponse):
                    raise RuntimeError(f"unexpected answer: {answer!r}")
                if answer.in_response_to in pending:
                    pending.discard(answer.in_response_to)
                    arrivals[answer.in_response_to] = at
            decoded = len(records)
        if self._failed:
            raise RuntimeError(f"{len(self._failed)} commands not delivered: {self._failed[0]}")
        return arrivals
