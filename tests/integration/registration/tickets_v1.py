"""A user's contract module, first release."""

from clubhouse.contracts import Command


class TicketCommand(Command):
    message_type: str = "command.ticket"
    title: str
