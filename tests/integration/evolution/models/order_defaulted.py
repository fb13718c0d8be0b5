"""``priority`` added with a default: the middle version of the transitive scenario."""

from clubhouse.contracts import Command


class Order(Command):
    """An order."""

    message_type: str = "command.order"
    sku: str
    qty: int
    priority: int = 0
