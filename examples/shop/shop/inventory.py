"""The inventory app: typed stock state per item, reserved for the orders that ``orders``
sends it.

Its state is a Pydantic model, ``Stock``: ``ctx.state`` is a ``Stock``, the changelog keeps
it in Avro under the subject ``inventory-Stock-value``, and ``clubhouse schemas check``
refuses a change to it that could not read the stock already stored.

    clubhouse run --app shop.inventory:app ...
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from clubhouse import App, Context
from shop.messages import ReserveStock, Restock, StockLevel, StockRejected, StockReserved


class Stock(BaseModel):
    """One item's stock."""

    available: int = Field(default=0, description="In stock, not reserved.")
    reserved: int = Field(default=0, description="Set aside for accepted orders.")


app = App(prefix="inventory")


@app.command(Restock, key="item", state=Stock)
def restock(cmd: Restock, ctx: Context) -> StockLevel:
    ctx.state.available += cmd.quantity
    return StockLevel(item=cmd.item, available=ctx.state.available)


@app.command(ReserveStock, key="item", state=Stock, emits=[StockReserved, StockRejected])
def reserve(cmd: ReserveStock, ctx: Context) -> None:
    stock: Stock = ctx.state
    if cmd.quantity > stock.available:
        ctx.emit(StockRejected(order_id=cmd.order_id, item=cmd.item, quantity=cmd.quantity,
                               available=stock.available))  # fmt: skip
        return
    stock.available -= cmd.quantity
    stock.reserved += cmd.quantity
    ctx.emit(StockReserved(order_id=cmd.order_id, item=cmd.item, quantity=cmd.quantity))
