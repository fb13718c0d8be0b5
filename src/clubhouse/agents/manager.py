"""AgentRecord, an agent's stored state, and LiveAgents, the agent objects built on demand."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from clubhouse.agents.protocol import Agent, AgentFactory, AgentSpec

ACTIVE = "active"
DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """One agent as stored: the keyed state of its agent id."""

    agent_id: str
    personality_type: str
    name: str
    role: str
    state: str
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def from_state(cls, agent_id: str, state: Mapping[str, Any]) -> AgentRecord:
        """The record stored as the keyed state of ``agent_id``."""
        return cls(
            agent_id=agent_id,
            personality_type=state["personality_type"],
            name=state["name"],
            role=state["role"],
            state=state["state"],
            metadata=dict(state.get("metadata") or {}),
            created_at=datetime.fromisoformat(state["created_at"]),
        )

    def to_state(self) -> dict[str, Any]:
        """This record as JSON-ready keyed state."""
        return {
            "personality_type": self.personality_type,
            "name": self.name,
            "role": self.role,
            "state": self.state,
            "metadata": dict(self.metadata),
            "created_at": self.created_at.isoformat(),
        }

    @property
    def spec(self) -> AgentSpec:
        """What the factory needs to rebuild this agent."""
        return AgentSpec(self.agent_id, self.personality_type, self.metadata)


class LiveAgents:
    """Agent objects by agent id, built through the configured factory.

    They are cached; after a restart they are rebuilt from their stored spec on first use,
    so agents survive restarts without the factory having to be persistent.
    """

    def __init__(self, factory: AgentFactory) -> None:
        self._factory = factory
        self._live: dict[str, Agent] = {}
        self._lock = threading.Lock()

    def build(self, spec: AgentSpec) -> Agent:
        """A new agent for ``spec``; the factory's errors propagate."""
        agent = self._factory(spec)
        with self._lock:
            self._live[spec.agent_id] = agent
        return agent

    def agent(self, record: AgentRecord) -> Agent:
        """The live agent for a stored record, rebuilt from its spec if needed."""
        with self._lock:
            agent = self._live.get(record.agent_id)
        if agent is not None:
            return agent
        return self.build(record.spec)

    def forget(self, agent_id: str) -> None:
        """Drop the live agent of ``agent_id`` (it was deleted)."""
        with self._lock:
            self._live.pop(agent_id, None)
