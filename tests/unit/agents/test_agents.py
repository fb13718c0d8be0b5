"""Built-in agents, plug-in loading, agent records and the live-agent cache."""

from __future__ import annotations

import pytest

from clubhouse.agents import Agent, AgentSpec, builtin_agent_factory
from clubhouse.agents.loading import AgentFactoryError, load_agent_factory
from clubhouse.agents.manager import AgentRecord, LiveAgents
from clubhouse.agents.protocol import UnknownPersonalityError


def ask(agent: Agent, text: str) -> str:
    return agent.process(text, conversation_id=None, metadata={}).content


def test_builtin_agents_are_deterministic() -> None:
    echo = builtin_agent_factory(AgentSpec("e", "echo"))
    assistant = builtin_agent_factory(AgentSpec("a", "assistant"))
    assert isinstance(echo, Agent)
    assert ask(echo, "same") == "same"
    assert ask(assistant, "Hi there") == "Hello! How can I help you today?"
    assert ask(assistant, "repeat: once more") == "once more"
    assert ask(assistant, "count: one two three") == "3 words"
    assert "don't know" in ask(assistant, "what is the airspeed of a swallow")
    assert ask(assistant, "hello") == ask(assistant, "hello")


def test_unknown_personality_names_the_known_ones() -> None:
    with pytest.raises(UnknownPersonalityError, match="'pirate'; known: assistant, echo"):
        builtin_agent_factory(AgentSpec("p", "pirate"))


def test_plugin_factory_loads_from_module_reference() -> None:
    factory = load_agent_factory("tests.unit.agents.plugins:make")
    assert ask(factory(AgentSpec("s", "shouting")), "hey") == "HEY"
    assert ask(factory(AgentSpec("e", "echo")), "hey") == "hey"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no-colon", "must look like"),
        ("no.such.module:make", "cannot import"),
        ("tests.unit.agents.plugins:missing", "has no attribute"),
        ("tests.unit.agents.plugins:NOT_CALLABLE", "is not callable"),
    ],
)
def test_bad_factory_references_are_clear(reference: str, message: str) -> None:
    with pytest.raises(AgentFactoryError, match=message):
        load_agent_factory(reference)


def record(agent_id: str = "a") -> AgentRecord:
    return AgentRecord(agent_id, "echo", "Echo a", "echo", "active", {"team": "x"})


def test_an_agent_record_round_trips_through_its_keyed_state() -> None:
    saved = record("r")
    assert AgentRecord.from_state("r", saved.to_state()) == saved


def test_manager_rebuilds_agents_from_records() -> None:
    built: list[str] = []

    def factory(spec: AgentSpec) -> Agent:
        built.append(spec.agent_id)
        return builtin_agent_factory(spec)

    manager = LiveAgents(factory)
    agent = manager.agent(record("r"))
    assert manager.agent(record("r")) is agent
    manager.forget("r")
    manager.agent(record("r"))
    assert built == ["r", "r"]
