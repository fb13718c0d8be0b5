"""An agent factory that is slow to build agents, so a stream of creates takes a while."""

from __future__ import annotations

import time

from clubhouse.agents import Agent, AgentSpec, builtin_agent_factory


def make(spec: AgentSpec) -> Agent:
    time.sleep(0.03)
    return builtin_agent_factory(AgentSpec(spec.agent_id, "echo", spec.metadata))
