"""``qty`` changed from int (Avro long) to str."""

from clubhouse.contracts import Command


class Order(Command):
    """An order."""

    message_type: str = "command.order"
    sku: str
    qty: str
