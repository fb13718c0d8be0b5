"""The built-in events the service publishes about agents."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from clubhouse.contracts.base import Event


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
