"""An agent whose reply is three times its input: its outputs can outgrow any size limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clubhouse.agents import Agent, AgentReply, AgentSpec, builtin_agent_factory


@dataclass(frozen=True)
class TriplingAgent:
    agent_id: str

    @property
    def name(self) -> str:
        return f"Tripling {self.agent_id}"

    @property
    def role(self) -> str:
        return "tripling"

    def process(
        self, content: str, *, conversation_id: str | None, metadata: Mapping[str, Any]
    ) -> AgentReply:
        return AgentReply(content=content * 3, metadata={"agent": "tripling"})


def make(spec: AgentSpec) -> Agent:
    if spec.personality_type == "tripling":
        return TriplingAgent(spec.agent_id)
    return builtin_agent_factory(spec)
