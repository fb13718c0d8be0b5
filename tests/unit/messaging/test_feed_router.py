"""The feed router: which followed records go to the app's commands topic, keyed how."""

from __future__ import annotations

from clubhouse.messaging.feed_router import FeedRouter
from clubhouse.messaging.processor import FORWARDED_HEADER
from clubhouse.services.kafka_protocol import ConsumedRecord
from tests.apps.harness import AppHarness
from tests.unit.application.reactions import Charged, ChargeReceipt, Ordered, Unrelated, orders


def _router() -> tuple[FeedRouter, AppHarness, list[tuple[str, str]]]:
    h = AppHarness(orders)
    counted: list[tuple[str, str]] = []
    router = FeedRouter(h.serde, orders, orders.prefixes(),
                        count=lambda topic, outcome: counted.append((topic, outcome)))  # fmt: skip
    return router, h, counted


def test_a_followed_event_goes_to_the_commands_topic_keyed_by_its_handlers_key() -> None:
    router, h, counted = _router()
    value = h.serde.serialize(Charged(order_id="o1", amount=1))
    record = ConsumedRecord("billing-events", 2, 7, b"acct-1", value, (("trace", b"t1"),))
    routed = router.route(record)
    assert routed is not None
    assert (routed.topic, routed.key, routed.value) == ("orders-commands", b"o1", value)
    assert dict(routed.headers) == {"trace": b"t1", FORWARDED_HEADER: b"billing-events/2/7"}
    assert counted == [("billing-events", "routed")]


def test_records_no_handler_takes_from_that_topic_are_skipped_and_counted() -> None:
    router, h, counted = _router()
    unrelated = h.serde.serialize(Unrelated(order_id="o1"))
    # Charged is followed on billing's events, not on this app's own.
    charged = h.serde.serialize(Charged(order_id="o1", amount=1))
    receipt = h.serde.serialize(ChargeReceipt(order_id="o1"))
    for topic, value in [("billing-events", unrelated), ("billing-events", unrelated),
                         ("orders-events", charged), ("billing-events", receipt)]:  # fmt: skip
        assert router.route(ConsumedRecord(topic, 0, 0, None, value)) is None
    assert router.route(ConsumedRecord("billing-events", 0, 0, None, b"")) is None
    unknown_id = b"\x00\x00\x00\x7f\x7fxx"
    assert router.route(ConsumedRecord("billing-events", 0, 0, None, unknown_id)) is None
    assert router.route(ConsumedRecord("billing-events", 0, 0, None, b"junk")) is None
    assert [o for _, o in counted] == [
        "not_handled", "not_handled", "not_handled", "not_handled", "empty", "undecodable",
        "undecodable",
    ]  # fmt: skip


def test_the_apps_own_events_are_followed_under_the_prefix_it_is_served_with() -> None:
    h = AppHarness(orders)
    router = FeedRouter(h.serde, orders, orders.prefixes("staging"))
    value = h.serde.serialize(Ordered(order_id="o9"))
    assert router.route(ConsumedRecord("orders-events", 0, 0, None, value)) is None
    routed = router.route(ConsumedRecord("staging-events", 0, 0, None, value))
    assert routed is not None and routed.topic == "staging-commands"
