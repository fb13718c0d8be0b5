"""The orders app: takes orders, asks inventory for stock, and settles each order when
inventory's event about it arrives.

    clubhouse run --app shop.orders:app ...
"""

from __future__ import annotations

from clubhouse import App, CommandRejected, Context
from shop import inventory
from shop.messages import (
    OrderAccepted,
    OrderReceived,
    OrderRejected,
    PlaceOrder,
    ReserveStock,
    StockRejected,
    StockReserved,
)

app = App(prefix="orders")


@app.command(PlaceOrder, key="order_id", sends={"inventory": [ReserveStock]})
def place(cmd: PlaceOrder, ctx: Context) -> OrderReceived:
    if ctx.state:
        raise CommandRejected("order_exists", f"order {cmd.order_id!r} was placed already")
    ctx.state.update(status="pending", item=cmd.item, quantity=cmd.quantity)
    # To inventory's commands topic, keyed by the item as inventory keys it, in the same
    # transaction as this order's state: placed and asked for, or neither.
    ctx.send(ReserveStock(order_id=cmd.order_id, item=cmd.item, quantity=cmd.quantity),
             to=inventory.app)  # fmt: skip
    return OrderReceived(order_id=cmd.order_id, status="pending")


@app.event(StockReserved, key="order_id", source="inventory", emits=[OrderAccepted])
def reserved(event: StockReserved, ctx: Context) -> None:
    if ctx.state.get("status") != "pending":
        return  # settled already
    ctx.state["status"] = "accepted"
    ctx.emit(OrderAccepted(order_id=event.order_id, item=event.item, quantity=event.quantity))


@app.event(StockRejected, key="order_id", source="inventory", emits=[OrderRejected])
def rejected(event: StockRejected, ctx: Context) -> None:
    if ctx.state.get("status") != "pending":
        return
    ctx.state["status"] = "rejected"
    ctx.emit(OrderRejected(order_id=event.order_id, item=event.item, available=event.available))
