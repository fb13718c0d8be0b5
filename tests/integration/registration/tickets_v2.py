"""The same contract with a required field added without a default: BACKWARD-incompatible."""

from clubhouse.contracts import Command


class TicketCommand(Command):
    message_type: str = "command.ticket"
    title: str
    priority: int
