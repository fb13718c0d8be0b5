"""The required field ``sku`` removed."""

from clubhouse.contracts import Command


class Order(Command):
    """An order."""

    message_type: str = "command.order"
    qty: int
