"""Built-in agents that need no network: an echo agent and a rule-based assistant."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clubhouse.agents.protocol import Agent, AgentReply, AgentSpec, UnknownPersonalityError


@dataclass(frozen=True)
class EchoAgent:
    """Answers with what it was sent; handy for tests and benchmarks."""

    agent_id: str

    @property
    def name(self) -> str:
        """``Echo`` followed by the agent's id."""
        return f"Echo {self.agent_id}"

    @property
    def role(self) -> str:
        """Always ``echo``."""
        return "echo"

    def process(
        self, content: str, *, conversation_id: str | None, metadata: Mapping[str, Any]
    ) -> AgentReply:
        """Reply with ``content`` unchanged."""
        return AgentReply(content=content, metadata={"agent": "echo"})


_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("greeting", re.compile(r"\b(hi|hello|hey)\b", re.I), "Hello! How can I help you today?"),
    ("help", re.compile(r"\bhelp\b", re.I), "I can answer simple questions, echo text with "
     "'repeat:', and count words with 'count:'."),
    ("thanks", re.compile(r"\b(thanks|thank you)\b", re.I), "You're welcome."),
    ("farewell", re.compile(r"\b(bye|goodbye)\b", re.I), "Goodbye!"),
)  # fmt: skip


@dataclass(frozen=True)
class AssistantAgent:
    """A small rule-based assistant: greetings, help, ``repeat:`` and ``count:`` commands."""

    agent_id: str

    @property
    def name(self) -> str:
        """``Assistant`` followed by the agent's id."""
        return f"Assistant {self.agent_id}"

    @property
    def role(self) -> str:
        """Always ``assistant``."""
        return "assistant"

    def process(
        self, content: str, *, conversation_id: str | None, metadata: Mapping[str, Any]
    ) -> AgentReply:
        """Answer by the first rule that matches: ``repeat:``, ``count:``, then the keywords."""
        text = content.strip()
        if text.lower().startswith("repeat:"):
            return AgentReply(text[len("repeat:") :].strip(), {"rule": "repeat"})
        if text.lower().startswith("count:"):
            words = len(text[len("count:") :].split())
            return AgentReply(f"{words} words", {"rule": "count", "words": words})
        for rule, pattern, answer in _RULES:
            if pattern.search(text):
                return AgentReply(answer, {"rule": rule})
        return AgentReply(
            f"I don't know how to answer {text!r} yet. Say 'help' to see what I can do.",
            {"rule": "fallback"},
        )


_BUILTIN: dict[str, type[EchoAgent] | type[AssistantAgent]] = {
    "echo": EchoAgent,
    "assistant": AssistantAgent,
}


def builtin_agent_factory(spec: AgentSpec) -> Agent:
    """The built-in agent for ``spec.personality_type`` (``assistant`` or ``echo``)."""
    cls = _BUILTIN.get(spec.personality_type)
    if cls is None:
        raise UnknownPersonalityError(spec.personality_type, sorted(_BUILTIN))
    return cls(spec.agent_id)
