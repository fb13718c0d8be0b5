"""Built-in agents, plug-in loading, the durable store and the manager."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from clubhouse.agents import Agent, AgentSpec, builtin_agent_factory
from clubhouse.agents.loading import AgentFactoryError, load_agent_factory
from clubhouse.agents.manager import AgentManager
from clubhouse.agents.protocol import UnknownPersonalityError
from clubhouse.agents.store import (
    AgentRecord,
    DeleteAgent,
    SqliteAgentStore,
    StoredOutput,
    UpsertAgent,
)


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


def test_store_applies_changes_and_outcomes_atomically(tmp_path: Path) -> None:
    store = SqliteAgentStore(tmp_path / "s.db")
    cmd, saved = uuid4(), record()
    store.apply(cmd, [UpsertAgent(saved)], [StoredOutput("M", "{}")])
    assert store.get("a") == saved
    assert store.outcome(cmd) == [StoredOutput("M", "{}")]
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        store.apply(cmd, [DeleteAgent("a")], [])  # same command twice: refused, rolled back
    assert store.get("a") is not None
    store.apply(uuid4(), [DeleteAgent("a")], [])
    assert store.get("a") is None
    assert store.outcome(uuid4()) is None


def test_store_batch_commits_once_at_the_end_and_reads_its_own_changes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteAgentStore(path)
    first, second = uuid4(), uuid4()
    with store.batch():
        store.apply(first, [UpsertAgent(record("a"))], [StoredOutput("M", "1")])
        assert store.get("a") is not None  # a later command of the batch sees the agent
        assert store.outcome(first) == [StoredOutput("M", "1")]  # ...and dedupes against it
        peek = SqliteAgentStore(path)
        assert peek.get("a") is None  # nothing committed yet
        peek.close()
        store.apply(second, [DeleteAgent("a")], [])
    reopened = SqliteAgentStore(path)
    assert reopened.get("a") is None
    assert reopened.outcome(first) == [StoredOutput("M", "1")]
    assert reopened.outcome(second) == []


def test_store_batch_keeps_each_apply_atomic_and_drops_everything_on_error(
    tmp_path: Path,
) -> None:
    store = SqliteAgentStore(tmp_path / "s.db")
    cmd = uuid4()
    with store.batch():
        store.apply(cmd, [UpsertAgent(record("a"))], [])
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            store.apply(cmd, [UpsertAgent(record("b"))], [])  # refused, and only it rolled back
        assert store.get("b") is None
    assert store.get("a") is not None
    with pytest.raises(RuntimeError, match="boom"), store.batch():
        store.apply(uuid4(), [UpsertAgent(record("c"))], [])
        raise RuntimeError("boom")
    assert store.get("c") is None
    with pytest.raises(RuntimeError, match="nest"), store.batch(), store.batch():
        pass
    store.apply(uuid4(), [UpsertAgent(record("d"))], [])  # usable again outside a batch
    assert store.get("d") is not None


def test_store_survives_reopening_and_prunes_old_outcomes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteAgentStore(path)
    cmd = uuid4()
    store.apply(cmd, [UpsertAgent(record("x"))], [])
    store.close()
    reopened = SqliteAgentStore(path)
    assert [r.agent_id for r in reopened.list_agents()] == ["x"]
    assert reopened.outcome(cmd) == []
    assert reopened.prune_outcomes(timedelta(days=1)) == 0
    assert reopened.prune_outcomes(timedelta(seconds=-1)) == 1
    assert reopened.outcome(cmd) is None


def test_manager_rebuilds_agents_from_records() -> None:
    built: list[str] = []

    def factory(spec: AgentSpec) -> Agent:
        built.append(spec.agent_id)
        return builtin_agent_factory(spec)

    manager = AgentManager(SqliteAgentStore(":memory:"), factory)
    agent = manager.agent(record("r"))
    assert manager.agent(record("r")) is agent
    manager.forget("r")
    manager.agent(record("r"))
    assert built == ["r", "r"]
