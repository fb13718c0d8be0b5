"""The built-in command handlers: plain functions from a command to state changes and messages.

Handlers do not touch Kafka or the database. They read state through the AgentManager and
return what should change and what should be published; the processor applies both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clubhouse.agents.manager import AgentManager
from clubhouse.agents.protocol import AgentSpec, UnknownPersonalityError
from clubhouse.agents.store import AgentRecord, Change, DeleteAgent, UpsertAgent
from clubhouse.contracts import (
    AgentCreatedResponse,
    AgentDeletedResponse,
    AgentErrorEvent,
    AgentStateChangedEvent,
    AgentThinkingEvent,
    BaseMessage,
    Command,
    CreateAgentCommand,
    DeleteAgentCommand,
    ErrorResponse,
    MessageProcessedResponse,
    ProcessMessageCommand,
)

log = logging.getLogger(__name__)

ACTIVE = "active"
DELETED = "deleted"


@dataclass
class HandlerResult:
    """What a command did: state changes to persist and messages to publish, in order."""

    changes: list[Change] = field(default_factory=list)
    outputs: list[BaseMessage] = field(default_factory=list)


# A handler may publish a message right away (before it finishes) through ``emit``.
Emit = Callable[[BaseMessage], None]
Handler = Callable[[Any, AgentManager, Emit], HandlerResult]


def error_response(
    command: Command | None, error_type: str, message: str, **details: Any
) -> ErrorResponse:
    """An ErrorResponse answering ``command`` (when known)."""
    return ErrorResponse(
        in_response_to=command.message_id if command is not None else None,
        error_type=error_type,
        error_message=message,
        details=details,
    )


def handle_create_agent(
    command: CreateAgentCommand, agents: AgentManager, emit: Emit
) -> HandlerResult:
    if agents.record(command.agent_id) is not None:
        return HandlerResult(outputs=[error_response(
            command, "agent_exists", f"agent {command.agent_id!r} already exists; "
            "delete it first or pick another agent_id", agent_id=command.agent_id,
        )])  # fmt: skip
    spec = AgentSpec(command.agent_id, command.personality_type, command.metadata)
    try:
        agent = agents.build(spec)
    except UnknownPersonalityError as exc:
        return HandlerResult(outputs=[error_response(
            command, "unknown_personality", str(exc), agent_id=command.agent_id,
            personality_type=command.personality_type,
        )])  # fmt: skip
    record = AgentRecord(
        agent_id=command.agent_id,
        personality_type=command.personality_type,
        name=agent.name,
        role=agent.role,
        state=ACTIVE,
        metadata=dict(command.metadata),
    )
    return HandlerResult(
        changes=[UpsertAgent(record)],
        outputs=[
            AgentCreatedResponse(
                in_response_to=command.message_id,
                agent_id=record.agent_id,
                agent_name=record.name,
                agent_role=record.role,
                personality_type=record.personality_type,
                status="created",
            ),
            AgentStateChangedEvent(
                agent_id=record.agent_id, previous_state=None, current_state=ACTIVE
            ),
        ],
    )


def handle_delete_agent(
    command: DeleteAgentCommand, agents: AgentManager, emit: Emit
) -> HandlerResult:
    record = agents.record(command.agent_id)
    if record is None:
        return HandlerResult(outputs=[_not_found(command, command.agent_id)])
    agents.forget(command.agent_id)
    return HandlerResult(
        changes=[DeleteAgent(command.agent_id)],
        outputs=[
            AgentDeletedResponse(
                in_response_to=command.message_id, agent_id=command.agent_id, status="deleted"
            ),
            AgentStateChangedEvent(
                agent_id=command.agent_id, previous_state=record.state, current_state=DELETED
            ),
        ],
    )


def handle_process_message(
    command: ProcessMessageCommand, agents: AgentManager, emit: Emit
) -> HandlerResult:
    record = agents.record(command.agent_id)
    if record is None:
        return HandlerResult(outputs=[_not_found(command, command.agent_id)])
    thinking = AgentThinkingEvent(agent_id=command.agent_id)
    emit(thinking)
    agent = agents.agent(record)
    try:
        reply = agent.process(
            command.content, conversation_id=command.conversation_id, metadata=command.metadata
        )
    # An agent is user code: whatever it raises becomes an ErrorResponse, never a crash.
    except Exception as exc:
        log.warning("agent failed", extra={"agent_id": command.agent_id, "error": repr(exc)})
        reason = f"{type(exc).__name__}: {exc}"
        return HandlerResult(outputs=[
            thinking,
            AgentErrorEvent(agent_id=command.agent_id, error_message=reason,
                            error_type="agent_failed",
                            metadata={"command_id": str(command.message_id)}),
            error_response(command, "agent_failed", f"agent {command.agent_id!r} failed: "
                           f"{reason}", agent_id=command.agent_id),
        ])  # fmt: skip
    return HandlerResult(
        outputs=[
            thinking,
            MessageProcessedResponse(
                in_response_to=command.message_id,
                agent_id=command.agent_id,
                content=reply.content,
                conversation_id=command.conversation_id,
                metadata=dict(reply.metadata),
            ),
        ]
    )


def _not_found(command: Command, agent_id: str) -> ErrorResponse:
    return error_response(
        command, "agent_not_found",
        f"no agent {agent_id!r}; create it first with a CreateAgentCommand", agent_id=agent_id,
    )  # fmt: skip
