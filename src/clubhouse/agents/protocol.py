"""The Agent protocol: how the service asks an agent to answer, and how agents are made."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from clubhouse.errors import ClubhouseError


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """What a CreateAgentCommand asked for; enough to rebuild the agent after a restart."""

    agent_id: str
    personality_type: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AgentReply:
    """An agent's answer to one message."""

    content: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Agent(Protocol):
    """A conversational agent. Implementations must be deterministic enough to test."""

    @property
    def name(self) -> str:
        """Display name, sent in AgentCreatedResponse."""
        ...

    @property
    def role(self) -> str:
        """What the agent does, sent in AgentCreatedResponse."""
        ...

    def process(
        self, content: str, *, conversation_id: str | None, metadata: Mapping[str, Any]
    ) -> AgentReply:
        """Answer ``content``. Raising marks the command failed (ErrorResponse + AgentError)."""
        ...


# Builds an agent from its spec. Plug in your own with --agent-factory module:callable.
AgentFactory = Callable[[AgentSpec], Agent]


class UnknownPersonalityError(ClubhouseError):
    """No agent exists for the requested personality type."""

    def __init__(self, personality_type: str, known: list[str]) -> None:
        self.personality_type = personality_type
        super().__init__(
            f"unknown personality_type {personality_type!r}; known: {', '.join(known)}"
        )
