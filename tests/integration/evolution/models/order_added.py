"""A required field ``priority`` added without a default."""

from clubhouse.contracts import Command


class Order(Command):
    """An order."""

    message_type: str = "command.order"
    sku: str
    qty: int
    priority: int
