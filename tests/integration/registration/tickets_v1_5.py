"""A compatible step between tickets_v1 and tickets_v2: the new field has a default."""

from clubhouse.contracts import Command


class TicketCommand(Command):
    message_type: str = "command.ticket"
    title: str
    priority: int = 0
