"""An optional field added with a default: compatible under every level."""

from clubhouse.contracts import Command


class Order(Command):
    """An order."""

    message_type: str = "command.order"
    sku: str
    qty: int
    gift_note: str | None = None
