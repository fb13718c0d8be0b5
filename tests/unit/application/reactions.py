"""Two small apps that talk, for the tests of event and response handlers and ``ctx.send``:
``billing`` charges orders that ``orders`` sends it, and ``orders`` follows billing's events
and responses, and its own events."""

from __future__ import annotations

from clubhouse.application import App, CommandRejected, Context
from clubhouse.contracts import Command, Event, Response


class Order(Command):
    message_type: str = "command.order"
    order_id: str
    amount: int


class Charge(Command):
    message_type: str = "command.charge"
    account: str
    order_id: str
    amount: int


class Charged(Event):
    message_type: str = "event.charged"
    order_id: str
    amount: int


class ChargeReceipt(Response):
    message_type: str = "response.charge_receipt"
    order_id: str


class Ordered(Event):
    message_type: str = "event.ordered"
    order_id: str


class Audited(Event):
    message_type: str = "event.audited"
    order_id: str
    events: int


class Unrelated(Event):
    message_type: str = "event.unrelated"
    order_id: str


billing = App(prefix="billing")


@billing.command(Charge, key="account", emits=[Charged])
def charge(cmd: Charge, ctx: Context) -> ChargeReceipt:
    if cmd.amount < 0:
        raise CommandRejected("negative", "no refunds here")
    ctx.state["total"] = ctx.state.get("total", 0) + cmd.amount
    ctx.emit(Charged(order_id=cmd.order_id, amount=cmd.amount))
    return ChargeReceipt(order_id=cmd.order_id)


orders = App(prefix="orders")


@orders.command(Order, key="order_id", emits=[Ordered])
def order(cmd: Order, ctx: Context) -> None:
    ctx.state["status"] = "ordered"
    ctx.emit(Ordered(order_id=cmd.order_id))
    ctx.send(Charge(account="acct-1", order_id=cmd.order_id, amount=cmd.amount), to=billing)


@orders.event(Charged, key="order_id", source="billing", emits=[Audited])
def charged(event: Charged, ctx: Context) -> None:
    if event.amount == 13:
        raise RuntimeError("unlucky")
    ctx.state["status"] = "charged"
    ctx.state["events"] = ctx.state.get("events", 0) + 1
    ctx.emit(Audited(order_id=event.order_id, events=ctx.state["events"]))


@orders.response(ChargeReceipt, key="order_id", source="billing")
def receipt(reply: ChargeReceipt, ctx: Context) -> None:
    ctx.state["receipt"] = True


@orders.event(Ordered, key="order_id")
def ordered(event: Ordered, ctx: Context) -> None:
    ctx.state["seen_own_event"] = True
