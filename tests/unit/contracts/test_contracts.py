"""The built-in contracts' own rules: defaults, types and validation."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest
from pydantic import ValidationError

from clubhouse.agents.messages import CreateAgentCommand, ProcessMessageCommand
from clubhouse.contracts import ErrorResponse, Response


def test_base_fields_have_useful_defaults() -> None:
    a, b = CreateAgentCommand(agent_id="a1"), CreateAgentCommand(agent_id="a1")
    assert isinstance(a.message_id, UUID)
    assert a.message_id != b.message_id
    assert a.timestamp.utcoffset() == timedelta(0)
    assert a.message_type == "command.create_agent"
    assert a.personality_type == "assistant"
    assert a.metadata == {}


def test_timestamp_must_be_aware() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        CreateAgentCommand(agent_id="a", timestamp="2024-01-01T00:00:00")  # type: ignore[arg-type]


def test_unknown_fields_and_empty_agent_ids_are_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        ProcessMessageCommand(agent_id="a", content="x", colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="agent_id"):
        ProcessMessageCommand(agent_id="", content="x")


def test_responses_carry_the_command_id() -> None:
    cmd = ProcessMessageCommand(agent_id="a", content="x")
    err = ErrorResponse(in_response_to=cmd.message_id, error_type="t", error_message="m")
    assert isinstance(err, Response)
    assert err.in_response_to == cmd.message_id
    assert err.details == {}
