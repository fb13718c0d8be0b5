"""Event and response handlers, and commands sent to other apps: declared on the App, run
by the dispatcher and the processor, and wired between apps in memory by TestApp."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from clubhouse.application import App, Context
from clubhouse.contracts import ErrorResponse, Event
from clubhouse.contracts.catalog import CatalogError
from clubhouse.messaging.processor import DLQ_REASON, FORWARDED_HEADER
from clubhouse.services.kafka_protocol import ConsumedRecord
from clubhouse.testing import DeliveryLoopError, TestApp
from tests.apps.harness import AppHarness
from tests.unit.application.reactions import (
    Audited,
    Charge,
    Charged,
    ChargeReceipt,
    Order,
    Ordered,
    Unrelated,
    billing,
    orders,
)


@pytest.fixture
def shop() -> Iterator[TestApp]:
    with TestApp(orders, billing) as t:
        yield t


def test_the_app_lists_the_topics_its_handlers_follow() -> None:
    assert orders.feed_topics() == ["billing-events", "billing-responses", "orders-events"]
    served = orders.prefixes("staging", {"billing": "prod-billing"})
    assert orders.feed_topics(served) == [
        "prod-billing-events", "prod-billing-responses", "staging-events"
    ]  # fmt: skip
    assert (served.of("orders"), served.of(None), served.of("other")) == (
        "staging", "staging", "other"
    )  # fmt: skip
    assert billing.feed_topics() == []
    assert {Charged, ChargeReceipt, Audited, Ordered} <= set(orders.catalog())


def test_declaring_a_handler_checks_the_model_and_its_key() -> None:
    app = App(prefix="x")
    with pytest.raises(CatalogError, match="not a subclass of clubhouse Event"):
        app.event(Order, key="order_id")  # type: ignore[type-var]
    with pytest.raises(CatalogError, match="has no field 'nope'"):
        app.event(Charged, key="nope")
    app.event(Charged, key="order_id")(lambda e, ctx: None)
    with pytest.raises(CatalogError, match="already has a handler"):
        app.event(Charged, key="order_id")
    with pytest.raises(CatalogError, match="topic prefix"):
        app.response(ChargeReceipt, key="order_id", source=" ")


def test_a_saga_across_two_apps_runs_to_its_end(shop: TestApp) -> None:
    assert shop.send(Order(order_id="o1", amount=5)) is None  # order() answers nothing
    assert shop.state("o1") == {
        "status": "charged", "events": 1, "receipt": True, "seen_own_event": True
    }  # fmt: skip
    assert shop.state("acct-1", app=billing) == {"total": 5}
    [sent] = shop.commands
    assert isinstance(sent, Charge) and sent.order_id == "o1"
    assert [type(e) for e in shop.events] == [Ordered, Charged, Audited]


def test_a_redelivered_cause_sends_nothing_twice(shop: TestApp) -> None:
    order = Order(order_id="o2", amount=3)
    shop.send(order)
    shop.send(order)  # the same message id
    assert len(shop.commands) == 1
    assert shop.state("acct-1", app=billing) == {"total": 3}


def test_a_sent_command_gets_an_id_derived_from_its_cause() -> None:
    with TestApp(orders, billing) as one, TestApp(orders, billing) as two:
        order = Order(order_id="o3", amount=1)
        one.send(order)
        two.send(order)
        assert one.commands[0].message_id == two.commands[0].message_id != order.message_id


def test_a_failing_event_handler_dead_letters_its_event_and_keeps_nothing(
    shop: TestApp,
) -> None:
    shop.send(Order(order_id="o4", amount=13))
    assert shop.dead_letters == [("handler_error", "RuntimeError: unlucky")]
    state = shop.state("o4")
    assert state is not None and state["status"] == "ordered" and "events" not in state
    assert not [e for e in shop.events if isinstance(e, Audited)]


def test_an_event_published_from_outside_is_handled_by_its_follower(shop: TestApp) -> None:
    shop.publish(Charged(order_id="o5", amount=2), source="billing")
    assert shop.state("o5") == {"status": "charged", "events": 1}
    shop.publish(Unrelated(order_id="o5"), source="billing")  # nobody follows it: skipped
    assert shop.state("o5") == {"status": "charged", "events": 1}


def test_an_event_handler_that_returns_a_value_is_a_handler_error() -> None:
    app = App(prefix="r")

    @app.event(Charged, key="order_id", source="b")
    def answers(event: Charged, ctx: Context) -> ErrorResponse:
        return ErrorResponse(error_type="x", error_message="y")

    h = AppHarness(app)
    value = h.serde.serialize(Charged(order_id="k", amount=1))
    processed = h.processor.process(ConsumedRecord("r-commands", 0, 1, b"k", value), h.partition)
    assert processed.kind == "dead_letter"
    [dead] = processed.records
    assert dead.topic == "r-dead-letters" and dict(dead.headers)[DLQ_REASON] == b"handler_error"


def test_an_event_on_the_commands_topic_keyed_wrong_is_forwarded_to_its_key() -> None:
    h = AppHarness(orders)
    value = h.serde.serialize(Charged(order_id="o6", amount=1))
    processed = h.processor.process(ConsumedRecord("orders-commands", 0, 1, b"x", value),
                                    h.partition)  # fmt: skip
    assert processed.kind == "forwarded"
    assert processed.records[0].key == b"o6"
    assert FORWARDED_HEADER in dict(processed.records[0].headers)


def test_an_event_no_handler_takes_is_still_refused_on_the_commands_topic() -> None:
    h = AppHarness(orders)
    value = h.serde.serialize(Unrelated(order_id="o7"))
    processed = h.processor.process(ConsumedRecord("orders-commands", 0, 1, b"o7", value),
                                    h.partition)  # fmt: skip
    assert processed.kind == "dead_letter"
    assert dict(processed.records[0].headers)[DLQ_REASON] == b"not_a_command"


def test_send_checks_what_it_is_given() -> None:
    ctx = Context("k", Order(order_id="o", amount=1).message_id, {}, logging.getLogger())
    with pytest.raises(TypeError, match="takes a clubhouse Command"):
        ctx.send(Charged(order_id="o", amount=1), to="billing")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="topic prefix"):
        ctx.send(Charge(account="a", order_id="o", amount=1), to="")
    ctx.send(Charge(account="a", order_id="o", amount=1), to=billing)
    ctx.send(Charge(account="a", order_id="o", amount=1), to="billing", key="chosen")
    assert [(s.prefix, s.key) for s in ctx.sent] == [("billing", "a"), ("billing", "chosen")]


def test_apps_that_answer_each_other_for_ever_are_stopped() -> None:
    app = App(prefix="loop")

    class Ping(Event):
        message_type: str = "event.ping"
        n: str

    @app.event(Ping, key="n")
    def again(event: Ping, ctx: Context) -> None:
        ctx.emit(Ping(n=event.n))

    with TestApp(app, max_deliveries=500) as t, pytest.raises(DeliveryLoopError,
                                                              match="answering each other"):
        t.publish(Ping(n="1"))


def test_an_event_whose_handler_is_given_up_is_dead_lettered_saying_so() -> None:
    h = AppHarness(orders)
    value = h.serde.serialize(Charged(order_id="o8", amount=1))
    record = ConsumedRecord("orders-commands", 0, 1, b"o8", value)
    processed = h.processor.timed_out(record, h.partition, 2.5)
    [dead] = processed.records
    headers = dict(dead.headers)
    assert headers[DLQ_REASON] == b"handler_timeout"
    error = headers["clubhouse.dlq.error"]
    assert b"the handler of Charged ran past its time limit of 2.5 s" in error
