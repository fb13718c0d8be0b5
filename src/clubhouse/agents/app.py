"""The built-in agent platform, as one App: create, delete and talk to agents.

Each agent's record is the keyed state of its ``agent_id``, so it moves, persists and is
deduplicated exactly like any user App's state.
"""

from __future__ import annotations

import logging

from clubhouse.agents.builtin import builtin_agent_factory
from clubhouse.agents.manager import ACTIVE, DELETED, AgentRecord, LiveAgents
from clubhouse.agents.messages import (
    AgentCreatedResponse,
    AgentDeletedResponse,
    AgentErrorEvent,
    AgentStateChangedEvent,
    AgentThinkingEvent,
    CreateAgentCommand,
    DeleteAgentCommand,
    MessageProcessedResponse,
    ProcessMessageCommand,
    agents_catalog,
)
from clubhouse.agents.protocol import AgentFactory, AgentSpec, UnknownPersonalityError
from clubhouse.application import App, CommandRejected, Context
from clubhouse.contracts import ErrorResponse

log = logging.getLogger(__name__)


def builtin_app(factory: AgentFactory = builtin_agent_factory, prefix: str = "clubhouse") -> App:
    """The agent platform served by ``clubhouse run`` and ``clubhouse dev`` without ``--app``."""
    app = App(prefix=prefix)
    agents = LiveAgents(factory)
    # Every built-in contract is registered, as before the App API, whether a handler names
    # it or not: clients and tools may use any of them.
    app.models(*agents_catalog())

    @app.command(CreateAgentCommand, key="agent_id", emits=[AgentStateChangedEvent])
    def create_agent(command: CreateAgentCommand, ctx: Context) -> AgentCreatedResponse:
        if ctx.state:
            raise CommandRejected(
                "agent_exists",
                f"agent {command.agent_id!r} already exists; delete it first or pick "
                "another agent_id",
                agent_id=command.agent_id,
            )
        spec = AgentSpec(command.agent_id, command.personality_type, command.metadata)
        try:
            agent = agents.build(spec)
        except UnknownPersonalityError as exc:
            raise CommandRejected(
                "unknown_personality", str(exc), agent_id=command.agent_id,
                personality_type=command.personality_type,
            ) from exc  # fmt: skip
        record = AgentRecord(
            agent_id=command.agent_id,
            personality_type=command.personality_type,
            name=agent.name,
            role=agent.role,
            state=ACTIVE,
            metadata=dict(command.metadata),
        )
        ctx.state.update(record.to_state())
        ctx.emit(
            AgentStateChangedEvent(agent_id=record.agent_id, previous_state=None,
                                   current_state=ACTIVE)
        )  # fmt: skip
        return AgentCreatedResponse(
            agent_id=record.agent_id,
            agent_name=record.name,
            agent_role=record.role,
            personality_type=record.personality_type,
            status="created",
        )

    @app.command(DeleteAgentCommand, key="agent_id", emits=[AgentStateChangedEvent])
    def delete_agent(command: DeleteAgentCommand, ctx: Context) -> AgentDeletedResponse:
        record = _existing(command.agent_id, ctx)
        agents.forget(command.agent_id)
        ctx.state.clear()
        ctx.emit(
            AgentStateChangedEvent(agent_id=command.agent_id, previous_state=record.state,
                                   current_state=DELETED)
        )  # fmt: skip
        return AgentDeletedResponse(agent_id=command.agent_id, status="deleted")

    @app.command(
        ProcessMessageCommand, key="agent_id", emits=[AgentThinkingEvent, AgentErrorEvent]
    )
    def process_message(
        command: ProcessMessageCommand, ctx: Context
    ) -> MessageProcessedResponse | ErrorResponse:
        record = _existing(command.agent_id, ctx)
        ctx.emit(AgentThinkingEvent(agent_id=command.agent_id))
        agent = agents.agent(record)
        try:
            reply = agent.process(
                command.content, conversation_id=command.conversation_id,
                metadata=command.metadata,
            )  # fmt: skip
        # An agent is user code: whatever it raises becomes an ErrorResponse, never a crash,
        # and the failure is announced as an event for whoever watches the agent.
        except Exception as exc:
            log.warning("agent failed", extra={"agent_id": command.agent_id, "error": repr(exc)})
            reason = f"{type(exc).__name__}: {exc}"
            ctx.emit(
                AgentErrorEvent(agent_id=command.agent_id, error_message=reason,
                                error_type="agent_failed",
                                metadata={"command_id": str(command.message_id)})
            )  # fmt: skip
            return ErrorResponse(
                error_type="agent_failed",
                error_message=f"agent {command.agent_id!r} failed: {reason}",
                details={"agent_id": command.agent_id},
            )
        return MessageProcessedResponse(
            agent_id=command.agent_id,
            content=reply.content,
            conversation_id=command.conversation_id,
            metadata=dict(reply.metadata),
        )

    return app


def _existing(agent_id: str, ctx: Context) -> AgentRecord:
    if not ctx.state:
        raise CommandRejected(
            "agent_not_found",
            f"no agent {agent_id!r}; create it first with a CreateAgentCommand",
            agent_id=agent_id,
        )
    return AgentRecord.from_state(agent_id, ctx.state)
