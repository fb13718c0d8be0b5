"""A user's agent plug-in, as named by --agent-factory tests.unit.agents.plugins:make."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clubhouse.agents import AgentReply, AgentSpec, builtin_agent_factory
from clubhouse.agents.protocol import Agent


class ShoutingAgent:
    name = "Shouter"
    role = "shouts"

    def process(
        self, content: str, *, conversation_id: str | None, metadata: Mapping[str, Any]
    ) -> AgentReply:
        return AgentReply(content.upper())


def make(spec: AgentSpec) -> Agent:
    if spec.personality_type == "shouting":
        return ShoutingAgent()
    return builtin_agent_factory(spec)


NOT_CALLABLE = 3
