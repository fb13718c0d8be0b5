"""The feed loop: each batch of followed records forwarded with its offsets, or redone."""

from __future__ import annotations

import threading

from clubhouse.messaging.feed_router import FeedRouter
from clubhouse.runtime.feed_loop import FeedLoop
from clubhouse.services.kafka_protocol import ConsumedRecord
from tests.apps.harness import AppHarness
from tests.fakes.kafka_loop import Committer, FollowingConsumer
from tests.unit.application.reactions import Charged, Unrelated, orders


def _records(h: AppHarness) -> list[ConsumedRecord]:
    out = []
    for offset in range(5):
        message = Charged(order_id=f"o{offset}", amount=1)
        if offset == 2:
            message = Unrelated(order_id="x")  # type: ignore[assignment]
        out.append(ConsumedRecord("billing-events", offset % 2, offset, None,
                                  h.serde.serialize(message)))  # fmt: skip
    return out


def test_every_batch_is_forwarded_once_even_when_one_must_be_redone() -> None:
    h = AppHarness(orders)
    stop = threading.Event()
    records = _records(h)
    consumer = FollowingConsumer(records, stop, batch=2)
    committer = Committer(redo=[1])  # the second batch fails once
    loop = FeedLoop(consumer=consumer, router=FeedRouter(h.serde, orders, orders.prefixes()),
                    committer=committer, topics=orders.feed_topics())  # fmt: skip
    loop.run(stop)
    assert consumer.topics == ["billing-events", "billing-responses", "orders-events"]
    assert [r.offset for r in committer.committed] == [0, 1, 2, 3, 4]
    assert [o.key for o in committer.published] == [b"o0", b"o1", b"o3", b"o4"]
    assert [(s.topic, s.partition, s.offset) for s in consumer.seeks] == [
        ("billing-events", 0, 2), ("billing-events", 1, 3)
    ]  # fmt: skip
