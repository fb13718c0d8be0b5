"""The shop's two apps, tested together in memory with clubhouse.testing.TestApp."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clubhouse import ErrorResponse
from clubhouse.testing import TestApp
from shop import inventory, orders
from shop.inventory import Stock
from shop.messages import (
    OrderAccepted,
    OrderReceived,
    OrderRejected,
    PlaceOrder,
    ReserveStock,
    Restock,
    StockLevel,
    StockReserved,
)


@pytest.fixture
def shop() -> Iterator[TestApp]:
    with TestApp(orders.app, inventory.app) as t:
        yield t


def test_an_order_in_stock_is_accepted_and_the_stock_reserved(shop: TestApp) -> None:
    level = shop.send(Restock(item="book", quantity=3))
    assert isinstance(level, StockLevel) and level.available == 3
    reply = shop.send(PlaceOrder(order_id="o1", item="book", quantity=2))
    assert isinstance(reply, OrderReceived) and reply.status == "pending"
    assert shop.state("o1") == {"status": "accepted", "item": "book", "quantity": 2}
    assert shop.state("book", app=inventory.app) == Stock(available=1, reserved=2)
    assert [type(e) for e in shop.events] == [StockReserved, OrderAccepted]


def test_an_order_past_the_stock_is_rejected_and_reserves_nothing(shop: TestApp) -> None:
    shop.send(Restock(item="pen", quantity=1))
    shop.send(PlaceOrder(order_id="o2", item="pen", quantity=5))
    assert shop.state("o2") is not None and shop.state("o2")["status"] == "rejected"  # type: ignore[index]
    assert shop.state("pen", app=inventory.app) == Stock(available=1)
    rejected = [e for e in shop.events if isinstance(e, OrderRejected)]
    assert [(e.order_id, e.available) for e in rejected] == [("o2", 1)]


def test_the_command_sent_to_inventory_is_keyed_as_inventory_keys_it(shop: TestApp) -> None:
    shop.send(PlaceOrder(order_id="o3", item="mug", quantity=1))
    [sent] = shop.commands
    assert isinstance(sent, ReserveStock) and sent.item == "mug" and sent.order_id == "o3"


def test_a_placed_order_resent_sends_no_second_reservation(shop: TestApp) -> None:
    shop.send(Restock(item="cup", quantity=5))
    order = PlaceOrder(order_id="o4", item="cup", quantity=2)
    first = shop.send(order)
    again = shop.send(order)  # the same message id: a redelivery, answered from memory
    assert again == first
    assert len(shop.commands) == 1
    assert shop.state("cup", app=inventory.app) == Stock(available=3, reserved=2)


def test_a_second_order_with_the_same_id_is_refused(shop: TestApp) -> None:
    shop.send(PlaceOrder(order_id="o5", item="hat", quantity=1))
    reply = shop.send(PlaceOrder(order_id="o5", item="hat", quantity=1))
    assert isinstance(reply, ErrorResponse) and reply.error_type == "order_exists"


def test_the_stock_is_typed_and_kept_in_avro_under_its_own_subject(shop: TestApp) -> None:
    shop.send(Restock(item="lamp", quantity=2))
    stock = shop.state("lamp", app=inventory.app)
    assert isinstance(stock, Stock) and stock.available == 2
    assert "inventory-Stock-value" in shop.registry.get_subjects()
