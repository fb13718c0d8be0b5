"""The bundled agents app's messages: create and delete an agent, ask one to process a
message; the responses that answer those commands; the events published about agents.

They are one app's contracts, not the framework's: ``clubhouse.contracts`` holds only the
bases. Their schemas keep the namespace and subjects they always had, so no registered id
changes.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from clubhouse.contracts import (
    BaseMessage,
    Command,
    ErrorResponse,
    Event,
    MessageCatalog,
    Response,
)
from clubhouse.contracts.catalog import messages_defined_in

# Ids are keys: of Kafka records, of stored state, of log lines. A key the size of a
# document is a mistake or an attack, so it is refused as an invalid command.
AGENT_ID_MAX = 256


class CreateAgentCommand(Command):
    """Create an agent with the given id and personality."""

    message_type: str = "command.create_agent"
    agent_id: str = Field(
        min_length=1, max_length=AGENT_ID_MAX, description="Id of the agent to create."
    )
    personality_type: str = Field(
        default="assistant", description="Which built-in or plugged-in agent to create."
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Free-form JSON metadata for the agent."
    )


class DeleteAgentCommand(Command):
    """Delete an existing agent."""

    message_type: str = "command.delete_agent"
    agent_id: str = Field(
        min_length=1, max_length=AGENT_ID_MAX, description="Id of the agent to delete."
    )


class ProcessMessageCommand(Command):
    """Ask an agent to process a piece of text."""

    message_type: str = "command.process_message"
    agent_id: str = Field(
        min_length=1, max_length=AGENT_ID_MAX, description="Id of the agent that should answer."
    )
    content: str = Field(description="The text to process.")
    conversation_id: str | None = Field(
        default=None, description="Conversation this message belongs to, if any."
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Free-form JSON metadata for this message."
    )


class AgentCreatedResponse(Response):
    """An agent was created."""

    message_type: str = "response.agent_created"
    agent_id: str = Field(description="Id of the new agent.")
    agent_name: str = Field(description="Display name of the new agent.")
    agent_role: str = Field(description="What the agent does.")
    personality_type: str = Field(description="The personality the agent was created with.")
    status: str = Field(default="created", description="Outcome of the command.")


class AgentDeletedResponse(Response):
    """An agent was deleted."""

    message_type: str = "response.agent_deleted"
    agent_id: str = Field(description="Id of the deleted agent.")
    status: str = Field(default="deleted", description="Outcome of the command.")


class MessageProcessedResponse(Response):
    """An agent's answer to a ProcessMessageCommand."""

    message_type: str = "response.message_processed"
    agent_id: str = Field(description="Id of the agent that answered.")
    content: str = Field(description="The agent's answer.")
    conversation_id: str | None = Field(default=None, description="Conversation of the answer.")
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Free-form JSON metadata of the answer."
    )


class AgentThinkingEvent(Event):
    """An agent started working on a message."""

    message_type: str = "event.agent_thinking"
    agent_id: str = Field(description="Id of the agent.")


class AgentErrorEvent(Event):
    """An agent failed while handling a command."""

    message_type: str = "event.agent_error"
    agent_id: str = Field(description="Id of the agent.")
    error_message: str = Field(description="What went wrong.")
    error_type: str = Field(description="Machine-readable error class.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Structured context.")


class AgentStateChangedEvent(Event):
    """An agent moved from one lifecycle state to another."""

    message_type: str = "event.agent_state_changed"
    agent_id: str = Field(description="Id of the agent.")
    previous_state: str | None = Field(
        default=None, description="State before the change; null when the agent is new."
    )
    current_state: str = Field(description="State after the change.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Structured context.")


def agents_catalog() -> MessageCatalog:
    """The bases, ErrorResponse and the agents app's messages: what tools work on when no
    ``--app`` names another app."""
    catalog = MessageCatalog([BaseMessage, Command, Response, Event])
    ordered = (Command, Response, Event)  # commands, then responses, then events, as before
    mine = messages_defined_in(__name__, ordered)
    for kind in ordered:
        catalog.add_models(m for m in mine if issubclass(m, kind))
        if kind is Response:
            catalog.add(ErrorResponse)
    return catalog
