"""The order service's handlers, tested in memory with clubhouse.testing.TestApp."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clubhouse import ErrorResponse
from clubhouse.testing import TestApp
from orders_app import (
    OrderAcceptedResponse,
    OrderShippedEvent,
    OrderShippedResponse,
    PlaceOrderCommand,
    ShipOrderCommand,
    app,
)


@pytest.fixture
def orders() -> Iterator[TestApp]:
    with TestApp(app) as t:
        yield t


def test_placing_adds_up_per_order(orders: TestApp) -> None:
    orders.send(PlaceOrderCommand(order_id="o1", item="book"))
    reply = orders.send(PlaceOrderCommand(order_id="o1", item="pen", quantity=2))
    assert isinstance(reply, OrderAcceptedResponse)
    assert reply.total_items == 3
    assert orders.state("o1") == {"status": "open", "items": 3}


def test_shipping_emits_an_event_and_closes_the_order(orders: TestApp) -> None:
    orders.send(PlaceOrderCommand(order_id="o1", item="book"))
    assert isinstance(orders.send(ShipOrderCommand(order_id="o1")), OrderShippedResponse)
    assert orders.events == [orders.events[0]]
    assert isinstance(orders.events[0], OrderShippedEvent) and orders.events[0].items == 1
    late = orders.send(PlaceOrderCommand(order_id="o1", item="mug"))
    assert isinstance(late, ErrorResponse) and late.error_type == "order_shipped"


def test_shipping_an_unknown_order_is_refused(orders: TestApp) -> None:
    reply = orders.send(ShipOrderCommand(order_id="nope"))
    assert isinstance(reply, ErrorResponse) and reply.error_type == "order_not_open"


def test_a_handler_bug_answers_with_handler_error(orders: TestApp) -> None:
    reply = orders.send(PlaceOrderCommand(order_id="o2", item="book", quantity=0))
    assert isinstance(reply, ErrorResponse)
    assert reply.error_type == "handler_error"
    assert "quantity must be positive" in reply.error_message
    assert orders.state("o2") is None
