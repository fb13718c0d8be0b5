"""Routes each command to its handler by model class; users register handlers for their own."""

from __future__ import annotations

from clubhouse.agents.manager import AgentManager
from clubhouse.contracts import (
    Command,
    CreateAgentCommand,
    DeleteAgentCommand,
    ProcessMessageCommand,
)
from clubhouse.messaging.handlers import (
    Emit,
    Handler,
    HandlerResult,
    error_response,
    handle_create_agent,
    handle_delete_agent,
    handle_process_message,
)


class CommandRouter:
    """Maps command classes to handlers; the most specific registered class wins."""

    def __init__(self) -> None:
        self._handlers: dict[type[Command], Handler] = {}

    @classmethod
    def with_builtin_handlers(cls) -> CommandRouter:
        router = cls()
        router.register(CreateAgentCommand, handle_create_agent)
        router.register(DeleteAgentCommand, handle_delete_agent)
        router.register(ProcessMessageCommand, handle_process_message)
        return router

    def register(self, command_type: type[Command], handler: Handler) -> None:
        self._handlers[command_type] = handler

    def handler_for(self, command_type: type[Command]) -> Handler | None:
        for klass in command_type.__mro__:
            handler = self._handlers.get(klass)
            if handler is not None:
                return handler
        return None

    def route(self, command: Command, agents: AgentManager, emit: Emit) -> HandlerResult:
        handler = self.handler_for(type(command))
        if handler is None:
            return HandlerResult(outputs=[error_response(
                command, "unsupported_command",
                f"no handler for {type(command).__name__} ({command.message_type}); "
                "register one on the service's CommandRouter",
            )])  # fmt: skip
        return handler(command, agents, emit)
