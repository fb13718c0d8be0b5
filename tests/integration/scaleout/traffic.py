"""Traffic for a fleet: a plan of commands, a driver that sends them at a steady rate, and a
collector that records every response the service publishes (duplicates included)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from clubhouse.agents.messages import CreateAgentCommand, ProcessMessageCommand, agents_catalog
from clubhouse.client import ClubhouseClient
from clubhouse.contracts import Command, Response
from clubhouse.messaging.serde import MessageSerde, UndecodableMessageError
from clubhouse.services.kafka import KafkaConsumer, KafkaSettings
from clubhouse.services.kafka_protocol import OFFSET_BEGINNING, TopicOffset
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings

PERSONALITY = "echo"  # answers with what it was sent: the expected state is easy to state


@dataclass(frozen=True)
class Plan:
    """``keys`` echo agents created first, then ``messages`` messages spread over them.

    Enough keys that every partition gets work; each key's commands share its partition,
    so each agent's creation is handled before its messages.
    """

    keys: int = 24
    messages: int = 300
    key_prefix: str = "agent"

    def agent_ids(self) -> list[str]:
        return [f"{self.key_prefix}-{k}" for k in range(self.keys)]

    def commands(self) -> list[Command]:
        ids = self.agent_ids()
        created: list[Command] = [
            CreateAgentCommand(agent_id=a, personality_type=PERSONALITY) for a in ids
        ]
        spoken: list[Command] = [
            ProcessMessageCommand(agent_id=ids[n % len(ids)], content=f"message {n}")
            for n in range(self.messages)
        ]
        return created + spoken

    def follow_up(self) -> list[Command]:
        """One more message to every agent: for a fleet whose state came from elsewhere."""
        return [ProcessMessageCommand(agent_id=a, content="again") for a in self.agent_ids()]


def reader_settings(bootstrap: str, client_id: str) -> KafkaSettings:
    """Dev-tuned settings of a reader that sees only committed transactions."""
    return KafkaSettings(
        bootstrap, client_id=client_id, dev_tuning=True,
        extra={"isolation.level": "read_committed"},
    )  # fmt: skip


def connect_client(bootstrap: str, registry_url: str, prefix: str) -> ClubhouseClient:
    registry = ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[registry_url]))
    settings = KafkaSettings(bootstrap, client_id=f"{prefix}-driver", dev_tuning=True)
    return ClubhouseClient.connect(settings, registry, topic_prefix=prefix)


class Driver:
    """Sends commands from a background thread at ``rate`` per second."""

    def __init__(self, client: ClubhouseClient, commands: Sequence[Command], rate: float) -> None:
        self._client = client
        self._commands = list(commands)
        self._interval = 1.0 / rate
        self._sent = 0
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="scaleout-driver", daemon=True)

    @property
    def commands(self) -> list[Command]:
        return list(self._commands)

    @property
    def sent(self) -> int:
        with self._lock:
            return self._sent

    def start(self) -> Driver:
        self._thread.start()
        return self

    def wait_sent(self, count: int, timeout: float = 300.0) -> None:
        """Until at least ``count`` commands are sent (the driver's clock, not the test's)."""
        deadline = time.monotonic() + timeout
        while self.sent < count and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"the driver sent {self.sent} of {count} commands in time")
            time.sleep(0.05)
        self._raise_error()

    def join(self, timeout: float = 300.0) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"the driver sent only {self.sent} commands in {timeout:g} s")
        self._raise_error()

    def _run(self) -> None:
        next_at = time.monotonic()
        try:
            for command in self._commands:
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._client.send(command)
                with self._lock:
                    self._sent += 1
                next_at += self._interval
        except BaseException as exc:  # reported to the test thread by join/wait_sent
            self._error = exc

    def _raise_error(self) -> None:
        if self._error is not None:
            raise AssertionError(f"the driver failed: {self._error!r}") from self._error


@dataclass
class Answers:
    """Every response record seen for one command."""

    records: int = 0
    message_ids: set[UUID] = field(default_factory=set)
    responses: list[Response] = field(default_factory=list)


class ResponseCollector:
    """Reads the responses topic from the beginning, read_committed, no consumer group."""

    def __init__(self, bootstrap: str, registry_url: str, prefix: str) -> None:
        registry = ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[registry_url]))
        self._serde = MessageSerde(registry, agents_catalog(), prefix)
        self._serde.prepare()
        self._consumer = KafkaConsumer(reader_settings(bootstrap, f"{prefix}-collector"))
        topic = f"{prefix}-responses"
        ends = self._consumer.end_offsets(topic, timeout=10.0)
        self._consumer.assign([TopicOffset(p.topic, p.partition, OFFSET_BEGINNING) for p in ends])
        self._answers: dict[UUID, Answers] = defaultdict(Answers)
        self.undecodable = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scaleout-collector", daemon=True)
        self._thread.start()

    def answers(self) -> dict[UUID, Answers]:
        """A snapshot: command id -> what answered it."""
        with self._lock:
            return {
                k: Answers(v.records, set(v.message_ids), list(v.responses))
                for k, v in self._answers.items()
            }

    def wait_answered(self, command_ids: Sequence[UUID], timeout: float) -> set[UUID]:
        """Until every command has an answer or ``timeout`` passes; returns those without."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                missing = {c for c in command_ids if c not in self._answers}
            if not missing or time.monotonic() > deadline:
                return missing
            time.sleep(0.1)

    def settle(self, quiet_s: float = 2.0) -> None:
        """Keep reading until ``quiet_s`` pass with no new record: late duplicates count too."""
        last = -1
        while True:
            with self._lock:
                now = sum(a.records for a in self._answers.values())
            if now == last:
                return
            last = now
            time.sleep(quiet_s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._consumer.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for record in self._consumer.poll_batch(500, 0.2):
                if record.value is None:
                    continue
                try:
                    message = self._serde.deserialize(record.value)
                except UndecodableMessageError:
                    self.undecodable += 1
                    continue
                if isinstance(message, Response) and message.in_response_to is not None:
                    with self._lock:
                        answer = self._answers[message.in_response_to]
                        answer.records += 1
                        answer.message_ids.add(message.message_id)
                        answer.responses.append(message)
