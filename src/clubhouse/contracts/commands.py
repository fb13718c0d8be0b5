"""The built-in commands: create and delete an agent, and ask one to process a message."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from clubhouse.contracts.base import Command

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
