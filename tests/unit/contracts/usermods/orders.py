"""A user's own contract module, as passed to ``--models``."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from clubhouse.contracts import Command, Event


class LineItem(BaseModel):
    sku: str
    amount: Decimal = Field(max_digits=10, decimal_places=2)


class PlaceOrderCommand(Command):
    """Place an order."""

    message_type: str = "command.place_order"
    order_id: str
    items: list[LineItem]


class OrderPlacedEvent(Event):
    message_type: str = "event.order_placed"
    order_id: str
