"""A module whose model name clashes with a built-in."""

from clubhouse.contracts import Command


class CreateAgentCommand(Command):
    message_type: str = "command.other_create"
