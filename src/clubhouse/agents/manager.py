"""AgentManager: agent records from the store, and live agent objects built on demand."""

from __future__ import annotations

import threading

from clubhouse.agents.protocol import Agent, AgentFactory, AgentSpec
from clubhouse.agents.store import AgentRecord, AgentStore


class AgentManager:
    """Looks agents up and builds them through the configured factory.

    Live agent objects are cached; after a restart they are rebuilt from their stored spec on
    first use, so agents survive restarts without the factory having to be persistent.
    """

    def __init__(self, store: AgentStore, factory: AgentFactory) -> None:
        self.store = store
        self._factory = factory
        self._live: dict[str, Agent] = {}
        self._lock = threading.Lock()

    def record(self, agent_id: str) -> AgentRecord | None:
        return self.store.get(agent_id)

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
        return self.build(AgentSpec(record.agent_id, record.personality_type, record.metadata))

    def forget(self, agent_id: str) -> None:
        with self._lock:
            self._live.pop(agent_id, None)
