"""Small fakes of the Kafka client protocols for the service loop's tests: a consumer that
hands out queued records, and an idempotent and a transactional producer that accept what a
``Refuse`` function lets through."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any

from clubhouse.messaging.outbound import Outbound
from clubhouse.services.kafka_errors import BatchDeliveryError, DeliveryError
from clubhouse.services.kafka_protocol import (
    ConsumedRecord,
    DeliveredRecord,
    RebalanceListener,
    TopicOffset,
)


class Consumer:
    """Hands out the queued records; seek() puts them back; stops the loop once every record
    is committed."""

    def __init__(self, records: list[ConsumedRecord], stop: threading.Event) -> None:
        self.all = records
        self.position = 0
        self.committed: list[TopicOffset] = []
        self.seeks: list[TopicOffset] = []
        self.stop = stop

    def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        assert listener is not None
        listener.on_assigned([("t-commands", 0)])

    def poll_batch(self, max_records: int, timeout: float) -> list[ConsumedRecord]:
        batch = self.all[self.position : self.position + max_records]
        self.position += len(batch)
        return batch

    def seek(self, offsets: Sequence[TopicOffset]) -> None:
        self.seeks.extend(offsets)
        self.position = min(o.offset for o in offsets)

    def group_metadata(self) -> object:
        return "generation-1"

    def commit(self, offsets: Sequence[TopicOffset]) -> None:
        self.committed.extend(offsets)
        if offsets and max(o.offset for o in offsets) >= len(self.all):
            self.stop.set()


Refuse = Callable[[Outbound], str | None]  # -> librdkafka error name, or None to accept


class Producer:
    """The idempotent producer: acknowledges what ``refuse`` lets through."""

    def __init__(self, refuse: Refuse) -> None:
        self.refuse = refuse
        self.acked: list[Outbound] = []
        self.rebuilt = 0

    def produce_batch(self, records: Iterable[Any], *, timeout: float = 0) -> list[Any]:
        batch = list(records)
        failed = {}
        delivered = []
        for i, record in enumerate(batch):
            code = self.refuse(record)
            if code is None:
                self.acked.append(record)
                delivered.append(DeliveredRecord(record.topic, record.partition or 0,
                                                 len(self.acked)))  # fmt: skip
            else:
                failed[i] = DeliveryError(record.topic, "refused", code=code)
        if failed:
            raise BatchDeliveryError(failed, len(batch))
        return delivered

    def rebuild(self, reason: str) -> None:
        self.rebuilt += 1

    def close(self, timeout: float = 0) -> None:
        pass


class TxnProducer:
    """A transactional producer: records become visible only on commit."""

    def __init__(self, refuse: Refuse, fail_commit: Callable[[], Exception | None]) -> None:
        self.refuse = refuse
        self.fail_commit = fail_commit
        self.open: list[Outbound] = []
        self.visible: list[Outbound] = []
        self.offsets: list[TopicOffset] = []
        self.calls: list[str] = []

    def init(self, timeout: float) -> None:
        self.calls.append("init")

    def begin(self) -> None:
        self.calls.append("begin")
        self.open = []

    def produce(self, topic: str, key: bytes | None, value: bytes | None,
                headers: Sequence[tuple[str, bytes]] = (), *,
                partition: int | None = None) -> Future[DeliveredRecord]:  # fmt: skip
        record = Outbound(topic, key, value, list(headers), partition=partition)
        future: Future[DeliveredRecord] = Future()
        code = self.refuse(record)
        if code is None:
            self.open.append(record)
            future.set_result(DeliveredRecord(topic, partition or 0, 100 + len(self.open)))
        else:
            future.set_exception(DeliveryError(topic, "refused", code=code))
        return future

    def wait(self, futures: Sequence[Future[DeliveredRecord]], timeout: float) -> list[Any]:
        failed = {i: f.exception() for i, f in enumerate(futures) if f.exception() is not None}
        if failed:
            raise BatchDeliveryError(failed, len(futures))  # type: ignore[arg-type]
        return [f.result() for f in futures]

    def send_offsets(self, offsets: Sequence[TopicOffset], metadata: object, t: float) -> None:
        assert metadata == "generation-1"
        self.calls.append("send_offsets")
        self.pending_offsets = list(offsets)

    def commit(self, timeout: float) -> None:
        failure = self.fail_commit()
        if failure is not None:
            self.calls.append("commit-failed")
            raise failure
        self.calls.append("commit")
        self.visible.extend(self.open)
        self.offsets.extend(self.pending_offsets)
        if max(o.offset for o in self.offsets) >= self.stop_after:
            self.stop.set()

    def abort(self, timeout: float) -> None:
        self.calls.append("abort")
        self.open = []

    def rebuild(self, reason: str) -> None:
        self.calls.append("rebuild")

    def close(self, timeout: float) -> None:
        pass


class FollowingConsumer:
    """A consumer of several topics with no rebalance listener, as the feed loop uses one:
    hands out the queued records in batches of ``batch``; seek() puts them back."""

    def __init__(self, records: list[ConsumedRecord], stop: threading.Event, batch: int) -> None:
        self.all = records
        self.position = 0
        self.batch = batch
        self.topics: list[str] = []
        self.seeks: list[TopicOffset] = []
        self.stop = stop

    def subscribe(self, topics: Sequence[str], listener: RebalanceListener | None = None) -> None:
        self.topics = list(topics)

    def assignment(self) -> list[tuple[str, int]]:
        return sorted({(r.topic, r.partition) for r in self.all})

    def poll_batch(self, max_records: int, timeout: float) -> list[ConsumedRecord]:
        if self.position >= len(self.all):
            self.stop.set()
            return []
        batch = self.all[self.position : self.position + min(max_records, self.batch)]
        self.position += len(batch)
        return batch

    def seek(self, offsets: Sequence[TopicOffset]) -> None:
        self.seeks.extend(offsets)
        wanted = {(o.topic, o.partition): o.offset for o in offsets}
        self.position = min(
            i for i, r in enumerate(self.all) if wanted.get((r.topic, r.partition)) == r.offset
        )


class Committer:
    """A ``BatchCommitter`` that says "do it again" for the batches numbered in ``redo``
    (from 0), and keeps what the others published."""

    def __init__(self, redo: Iterable[int] = ()) -> None:
        self.redo = set(redo)
        self.calls = 0
        self.published: list[Outbound] = []
        self.committed: list[ConsumedRecord] = []

    def start(self, timeout: float) -> None:
        pass

    def commit(self, records: Sequence[ConsumedRecord], outbound: list[Outbound],
               stop: threading.Event) -> dict[int, int] | None:  # fmt: skip
        call, self.calls = self.calls, self.calls + 1
        if call in self.redo:
            return None
        self.published.extend(outbound)
        self.committed.extend(records)
        return {}

    def close(self, timeout: float) -> None:
        pass
