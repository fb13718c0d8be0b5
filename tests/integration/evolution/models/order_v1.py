"""Version 1 of the Order contract."""

from clubhouse.contracts import Command


class Order(Command):
    """An order."""

    message_type: str = "command.order"
    sku: str
    qty: int
