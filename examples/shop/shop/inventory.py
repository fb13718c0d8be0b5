"""The inventory app: stock per item, reserved for orders that ``orders`` sends it.

    clubhouse run --app shop.inventory:app ...
"""

from __future__ import annotations

from clubhouse import App, Context
from shop.messages import ReserveStock, Restock, StockLevel, StockRejected, StockReserved

app = App(prefix="inventory")


@app.command(Restock, key="item")
def restock(cmd: Restock, ctx: Context) -> StockLevel:
    ctx.state["available"] = ctx.state.get("available", 0) + cmd.quantity
    return StockLevel(item=cmd.item, available=ctx.state["available"])


@app.command(ReserveStock, key="item", emits=[StockReserved, StockRejected])
def reserve(cmd: ReserveStock, ctx: Context) -> None:
    available = ctx.state.get("available", 0)
    if cmd.quantity > available:
        ctx.emit(StockRejected(order_id=cmd.order_id, item=cmd.item, quantity=cmd.quantity,
                               available=available))  # fmt: skip
        return
    ctx.state["available"] = available - cmd.quantity
    ctx.state["reserved"] = ctx.state.get("reserved", 0) + cmd.quantity
    ctx.emit(StockReserved(order_id=cmd.order_id, item=cmd.item, quantity=cmd.quantity))
