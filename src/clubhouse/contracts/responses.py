"""The built-in responses, each answering one command through ``in_response_to``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from clubhouse.contracts.base import Response


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


class ErrorResponse(Response):
    """A command could not be carried out."""

    message_type: str = "response.error"
    error_type: str = Field(description="Machine-readable error class, e.g. agent_not_found.")
    error_message: str = Field(description="Human-readable explanation and what to do next.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="Structured details of the failure."
    )
