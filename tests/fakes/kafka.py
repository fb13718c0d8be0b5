"""Stand-ins for confluent-kafka's Producer, Consumer, Message and AdminClient."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition


@dataclass
class FakeMessage:
    """What the delivery callback and Consumer.poll hand over."""

    topic_: str = "t"
    partition_: int = 0
    offset_: int = 0
    value_: bytes | None = b"v"
    key_: bytes | None = None
    headers_: list[tuple[str, bytes]] | None = None
    error_: KafkaError | None = None

    def topic(self) -> str:
        return self.topic_

    def partition(self) -> int:
        return self.partition_

    def offset(self) -> int:
        return self.offset_

    def value(self) -> bytes | None:
        return self.value_

    def key(self) -> bytes | None:
        return self.key_

    def headers(self) -> list[tuple[str, bytes]] | None:
        return self.headers_

    def error(self) -> KafkaError | None:
        return self.error_

    def timestamp(self) -> tuple[int, int]:
        return (1, 1000)


@dataclass
class FakeProducer:
    """Queues produce() calls; ``outcome`` decides each record's fate when flushed."""

    conf: dict[str, Any]
    outcome: Callable[[str, bytes | None], KafkaError | str | None] = lambda topic, value: None
    queued: list[tuple[str, bytes | None, Any]] = field(default_factory=list)
    produced: list[dict[str, Any]] = field(default_factory=list)
    buffer_errors: int = 0
    purged: bool = False
    closed: bool = False
    flush_raises: KafkaException | None = None
    offsets: dict[str, int] = field(default_factory=dict)
    # Decides whether produce() itself refuses a record, as librdkafka does for one too large.
    refuse: Callable[[str, bytes | None], KafkaError | None] = lambda topic, value: None
    close_blocks: threading.Event | None = None  # close() waits for it, as a stuck one does

    def produce(self, topic: str, **kw: Any) -> None:
        refused = self.refuse(topic, kw["value"])
        if refused is not None:
            raise KafkaException(refused)
        if self.buffer_errors:
            self.buffer_errors -= 1
            raise BufferError("queue full")
        self.produced.append({"topic": topic, **kw})
        self.queued.append((topic, kw["value"], kw["on_delivery"]))

    def poll(self, timeout: float) -> int:
        return self._serve()

    def flush(self, timeout: float) -> int:
        if self.flush_raises is not None:
            raise self.flush_raises
        self._serve()
        return len(self.queued)

    def _serve(self) -> int:
        kept, served = [], 0
        for topic, value, cb in self.queued:
            result = self.outcome(topic, value)
            if isinstance(result, str):  # "hang": never acknowledged
                kept.append((topic, value, cb))
                continue
            offset = self.offsets.get(topic, 0)
            self.offsets[topic] = offset + 1
            cb(result, FakeMessage(topic, 0, offset, value))
            served += 1
        self.queued = kept
        return served

    def purge(self, **kw: Any) -> None:
        self.purged = True
        for topic, value, cb in self.queued:
            cb(KafkaError(KafkaError._PURGE_QUEUE), FakeMessage(topic, -1, -1, value))
        self.queued = []

    def close(self) -> bool:
        if self.close_blocks is not None:
            self.close_blocks.wait()
        self.closed = True
        return True


@dataclass
class FakeConsumer:
    conf: dict[str, Any]
    messages: deque[FakeMessage] = field(default_factory=deque)
    commits: list[list[TopicPartition]] = field(default_factory=list)
    commit_result: list[Any] | None = None
    on_assign: Callable[..., None] | None = None
    assign_after_polls: list[TopicPartition] | None = None
    callbacks: dict[str, Callable[..., None]] = field(default_factory=dict)
    seeks: list[TopicPartition] = field(default_factory=list)
    assigned: list[TopicPartition] = field(default_factory=list)

    def subscribe(self, topics: list[str], **callbacks: Any) -> None:
        self.on_assign = callbacks["on_assign"]
        self.callbacks = callbacks

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned = partitions

    def seek(self, partition: TopicPartition) -> None:
        self.seeks.append(partition)

    def consumer_group_metadata(self) -> object:
        return "group-metadata"

    def poll(self, timeout: float) -> FakeMessage | None:
        if self.assign_after_polls is not None and self.on_assign is not None:
            self.on_assign(self, self.assign_after_polls)
            self.assign_after_polls = None
        return self.messages.popleft() if self.messages else None

    def consume(self, num: int, timeout: float) -> list[FakeMessage]:
        out = []
        while self.messages and len(out) < num:
            out.append(self.messages.popleft())
        return out

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> list[Any]:
        assert asynchronous is False
        self.commits.append(offsets)
        return self.commit_result if self.commit_result is not None else offsets

    def close(self) -> None:
        pass


@dataclass
class FakeAdmin:
    conf: dict[str, Any]
    topics: dict[str, int] = field(default_factory=dict)
    create_errors: dict[str, KafkaError] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)

    def list_topics(self, timeout: float) -> Any:
        class Meta:
            topics = {
                name: type("T", (), {"partitions": dict.fromkeys(range(n)), "error": None})()
                for name, n in self.topics.items()
            }

        return Meta()

    def create_topics(self, new_topics: list[Any], **kw: Any) -> dict[str, Future[None]]:
        out: dict[str, Future[None]] = {}
        for nt in new_topics:
            future: Future[None] = Future()
            if nt.topic in self.create_errors:
                err = self.create_errors[nt.topic]
                if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    self.topics[nt.topic] = nt.num_partitions  # someone else won the race
                future.set_exception(KafkaException(err))
            else:
                self.topics[nt.topic] = nt.num_partitions
                self.created.append(nt.topic)
                future.set_result(None)
            out[nt.topic] = future
        return out
