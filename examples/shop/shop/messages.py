"""The contracts the two apps share: what orders sends inventory, and what inventory says back.

Both apps import these classes, so both register the same schemas, each under its own
prefix, and each decodes what the other publishes.
"""

from __future__ import annotations

from pydantic import Field

from clubhouse import Command, Event, Response


class PlaceOrder(Command):
    """Order ``quantity`` of ``item``."""

    message_type: str = "command.place_order"
    order_id: str = Field(min_length=1, max_length=64, description="The order's id.")
    item: str = Field(min_length=1, max_length=64, description="What to order.")
    quantity: int = Field(gt=0, le=1000, description="How many.")


class OrderReceived(Response):
    """The order is taken; whether stock is there is told by an event later."""

    message_type: str = "response.order_received"
    order_id: str = Field(description="The order.")
    status: str = Field(description="pending, accepted or rejected.")


class OrderAccepted(Event):
    """Stock was reserved for the order."""

    message_type: str = "event.order_accepted"
    order_id: str = Field(description="The order.")
    item: str = Field(description="What was ordered.")
    quantity: int = Field(description="How many.")


class OrderRejected(Event):
    """There was not enough stock for the order."""

    message_type: str = "event.order_rejected"
    order_id: str = Field(description="The order.")
    item: str = Field(description="What was ordered.")
    available: int = Field(description="How many were in stock.")


class Restock(Command):
    """Add ``quantity`` of ``item`` to the stock."""

    message_type: str = "command.restock"
    item: str = Field(min_length=1, max_length=64, description="The item.")
    quantity: int = Field(gt=0, description="How many arrive.")


class StockLevel(Response):
    """How many of an item are in stock now."""

    message_type: str = "response.stock_level"
    item: str = Field(description="The item.")
    available: int = Field(description="In stock, not reserved.")


class ReserveStock(Command):
    """Reserve stock for an order; sent by orders, answered with an event."""

    message_type: str = "command.reserve_stock"
    order_id: str = Field(description="The order the stock is for.")
    item: str = Field(min_length=1, max_length=64, description="The item.")
    quantity: int = Field(gt=0, description="How many.")


class StockReserved(Event):
    """Stock for an order is set aside."""

    message_type: str = "event.stock_reserved"
    order_id: str = Field(description="The order.")
    item: str = Field(description="The item.")
    quantity: int = Field(description="How many were reserved.")


class StockRejected(Event):
    """Not enough stock for an order; nothing was reserved."""

    message_type: str = "event.stock_rejected"
    order_id: str = Field(description="The order.")
    item: str = Field(description="The item.")
    quantity: int = Field(description="How many were asked for.")
    available: int = Field(description="How many were in stock.")
