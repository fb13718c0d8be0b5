"""A small user App for the tests: orders keyed by order_id, sync and async handlers."""

from __future__ import annotations

import asyncio

from pydantic import Field

from clubhouse.application import App, CommandRejected, Context
from clubhouse.contracts import Command, Event, Response


class PlaceOrderCommand(Command):
    message_type: str = "command.place_order"
    order_id: str = Field(min_length=1)
    item: str
    quantity: int = 1


class CancelOrderCommand(Command):
    message_type: str = "command.cancel_order"
    order_id: str


class ExplodeCommand(Command):
    message_type: str = "command.explode"
    order_id: str


class NotifyCommand(Command):
    message_type: str = "command.notify"
    order_id: str


class OrderAcceptedResponse(Response):
    message_type: str = "response.order_accepted"
    order_id: str
    total_items: int


class OrderCancelledResponse(Response):
    message_type: str = "response.order_cancelled"
    order_id: str


class OrderPlacedEvent(Event):
    message_type: str = "event.order_placed"
    order_id: str
    item: str


app = App(prefix="shop")


@app.command(PlaceOrderCommand, key="order_id", emits=[OrderPlacedEvent])
def place(cmd: PlaceOrderCommand, ctx: Context) -> OrderAcceptedResponse:
    if cmd.quantity <= 0:
        raise CommandRejected("bad_quantity", f"quantity must be positive, not {cmd.quantity}")
    items = ctx.state.setdefault("items", [])
    items.append({"item": cmd.item, "quantity": cmd.quantity})
    ctx.state["status"] = "open"
    ctx.emit(OrderPlacedEvent(order_id=cmd.order_id, item=cmd.item))
    return OrderAcceptedResponse(
        order_id=cmd.order_id, total_items=sum(i["quantity"] for i in items)
    )


@app.command(CancelOrderCommand, key="order_id")
async def cancel(cmd: CancelOrderCommand, ctx: Context) -> OrderCancelledResponse:
    await asyncio.sleep(0)
    if not ctx.state:
        raise CommandRejected("order_not_found", f"no order {cmd.order_id!r}")
    ctx.state.clear()
    return OrderCancelledResponse(order_id=cmd.order_id)


@app.command(ExplodeCommand, key="order_id")
def explode(cmd: ExplodeCommand, ctx: Context) -> None:
    ctx.state["touched"] = True
    ctx.emit(OrderPlacedEvent(order_id=cmd.order_id, item="never published"))
    raise ValueError("the handler has a bug")


@app.command(NotifyCommand, key="order_id", emits=[OrderPlacedEvent])
def notify(cmd: NotifyCommand, ctx: Context) -> None:
    ctx.emit(OrderPlacedEvent(order_id=cmd.order_id, item="notified"))
