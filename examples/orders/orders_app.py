"""An order service on Clubhouse: typed commands, keyed state, events, an async handler.

Run it against the dev stack (from this folder):

    clubhouse dev --app orders_app:app
    clubhouse send PlaceOrderCommand --app orders_app:app --data '{"order_id":"o1","item":"book"}'
"""

from __future__ import annotations

import asyncio

from pydantic import Field

from clubhouse import App, Command, CommandRejected, Context, Event, Response


class PlaceOrderCommand(Command):
    """Add an item to an order, opening the order if it is new."""

    message_type: str = "command.place_order"
    order_id: str = Field(min_length=1, max_length=64, description="The order to add to.")
    item: str = Field(min_length=1, description="What to add.")
    quantity: int = Field(default=1, description="How many.")


class ShipOrderCommand(Command):
    """Ship an open order."""

    message_type: str = "command.ship_order"
    order_id: str = Field(min_length=1, max_length=64, description="The order to ship.")


class OrderAcceptedResponse(Response):
    """The item was added; the order's running total."""

    message_type: str = "response.order_accepted"
    order_id: str = Field(description="The order.")
    total_items: int = Field(description="Items in the order so far.")


class OrderShippedResponse(Response):
    """The order is on its way."""

    message_type: str = "response.order_shipped"
    order_id: str = Field(description="The order.")


class OrderShippedEvent(Event):
    """An order left the warehouse."""

    message_type: str = "event.order_shipped"
    order_id: str = Field(description="The order.")
    items: int = Field(description="How many items it held.")


app = App(prefix="orders")


@app.command(PlaceOrderCommand, key="order_id")
def place_order(cmd: PlaceOrderCommand, ctx: Context) -> OrderAcceptedResponse:
    if ctx.state.get("status") == "shipped":
        raise CommandRejected("order_shipped", f"order {cmd.order_id!r} has already shipped")
    if cmd.quantity <= 0:
        raise ValueError(f"quantity must be positive, got {cmd.quantity}")  # -> handler_error
    ctx.state["status"] = "open"
    ctx.state["items"] = ctx.state.get("items", 0) + cmd.quantity
    return OrderAcceptedResponse(order_id=cmd.order_id, total_items=ctx.state["items"])


@app.command(ShipOrderCommand, key="order_id", emits=[OrderShippedEvent])
async def ship_order(cmd: ShipOrderCommand, ctx: Context) -> OrderShippedResponse:
    if ctx.state.get("status") != "open":
        raise CommandRejected("order_not_open", f"order {cmd.order_id!r} is not open")
    await asyncio.sleep(0)  # an await on a real client: a courier's API, say
    ctx.state["status"] = "shipped"
    ctx.emit(OrderShippedEvent(order_id=cmd.order_id, items=ctx.state["items"]))
    ctx.log.info("order shipped")
    return OrderShippedResponse(order_id=cmd.order_id)
