"""StrictValidator: the producer hook refuses non-conforming messages, fetching each schema once."""

from __future__ import annotations

import pytest

from clubhouse.agents.messages import DeleteAgentCommand
from clubhouse.messaging.subjects import model_schema
from clubhouse.validation import (
    SchemaViolationError,
    StrictValidator,
    SubjectNotRegisteredError,
    Violation,
    validate_against_registry,
)
from tests.fakes.registry import FakeRegistry

SUBJECT = "app-DeleteAgentCommand-value"


def fetches(registry: FakeRegistry) -> int:
    return len([c for c in registry.calls if c[0] in ("get_latest", "get_version")])


def test_conforming_messages_pass_and_schemas_are_fetched_once() -> None:
    registry = FakeRegistry({SUBJECT: [model_schema(DeleteAgentCommand)]})
    validator = StrictValidator(registry, topic_prefix="app")

    for n in range(3):
        validator(DeleteAgentCommand(agent_id=f"a{n}"))

    assert fetches(registry) == 1
    validator.forget()
    validator(DeleteAgentCommand(agent_id="again"), SUBJECT)
    assert fetches(registry) == 2


def test_a_non_conforming_message_is_refused_with_every_violation() -> None:
    registry = FakeRegistry({SUBJECT: [model_schema(DeleteAgentCommand)]})
    validator = StrictValidator(registry, topic_prefix="app")
    broken = DeleteAgentCommand.model_construct(agent_id=None, message_type=3)

    with pytest.raises(SchemaViolationError) as raised:
        validator(broken)

    assert raised.value.subject == SUBJECT
    assert raised.value.version == 1
    assert raised.value.violations == [
        Violation("message_type", "string", "int 3"),
        Violation("agent_id", "string", "null"),
    ]
    assert str(raised.value).splitlines() == [
        f"message does not conform to {SUBJECT} v1 (2 violation(s)):",
        "  message_type: expected string, found int 3",
        "  agent_id: expected string, found null",
    ]


def test_unregistered_subject_says_what_to_do() -> None:
    validator = StrictValidator(FakeRegistry({}), topic_prefix="app")

    with pytest.raises(SubjectNotRegisteredError, match="register the schemas first"):
        validator(DeleteAgentCommand(agent_id="a"))


def test_validate_against_a_given_version() -> None:
    registry = FakeRegistry({SUBJECT: ['{"type":"record","name":"X","fields":[]}',
                                      model_schema(DeleteAgentCommand)]})  # fmt: skip
    message = DeleteAgentCommand(agent_id="a")

    latest = validate_against_registry(message, SUBJECT, registry=registry)
    first = validate_against_registry(message, SUBJECT, 1, registry=registry)

    assert (latest.version, latest.schema_id, latest.ok) == (2, 2, True)
    assert (first.version, first.ok) == (1, False)
    assert {v.path for v in first.violations} == {
        "message_id",
        "timestamp",
        "message_type",
        "agent_id",
    }
