"""Examples: realistic, deterministic, and valid instances of their models."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from clubhouse.agents.messages import agents_catalog
from clubhouse.avro import model_to_avro
from clubhouse.docs.examples import example_message
from tests.unit.docs.sample_models import HostileEvent, Node, OpenTicketCommand


def test_every_builtin_example_validates_against_its_model_and_is_deterministic() -> None:
    for model in agents_catalog():
        example = example_message(model, model_to_avro(model))
        assert example.problem is None, model.__name__
        model.model_validate(example.data)  # raises if the example is not a valid message
        assert example_message(model, model_to_avro(model)).to_json() == example.to_json()


def test_values_follow_defaults_and_field_names() -> None:
    from clubhouse.agents.messages import CreateAgentCommand
    from clubhouse.contracts import ErrorResponse

    data = example_message(CreateAgentCommand, model_to_avro(CreateAgentCommand)).data
    assert data["message_type"] == "command.create_agent"  # the per-class default
    assert data["personality_type"] == "assistant"  # the field's own default
    assert data["agent_id"] == "agent-42"
    assert data["timestamp"] == "2025-01-15T09:30:00Z"
    assert data["metadata"] == {}
    error = example_message(ErrorResponse, model_to_avro(ErrorResponse)).data
    assert error["error_type"] == "agent_not_found"
    assert error["in_response_to"] != error["message_id"]


def test_nested_records_enums_maps_aliases_and_logical_defaults() -> None:
    example = example_message(OpenTicketCommand, model_to_avro(OpenTicketCommand))
    assert example.problem is None
    data = example.data
    # serialization_alias names the field on output only; validation takes the Python name.
    OpenTicketCommand.model_validate({k.replace("externalRef", "external_ref"): v
                                      for k, v in data.items()})  # fmt: skip
    assert data["priority"] == "low"  # enum default, dumped by value as pydantic does
    assert data["shipping"] == {"street": "example street", "city": "example city"}
    assert data["items"] == [{"sku": "SKU-1001", "amount": "12.50"}]
    assert list(data["by_site"]) == ["key"]
    assert data["tags"] == []  # list[Any] is JSON text on the wire, a list in Python
    assert data["sla"] == "PT4H"  # the timedelta default, not a made-up value
    assert "externalRef" in data and "external_ref" not in data


def test_recursive_records_stop() -> None:
    data = example_message(Node, model_to_avro(Node)).data
    assert data == {"label": "example label", "children": [], "parent": None}


def test_a_value_the_schema_cannot_predict_is_reported_not_hidden() -> None:
    example = example_message(HostileEvent, model_to_avro(HostileEvent))
    assert example.problem is not None
    assert "serial" in example.problem and "pattern" in example.problem
    assert json.loads(example.to_json())["serial"] == "example serial"


def test_pattern_fields_with_defaults_use_them() -> None:
    class Coded(BaseModel):
        code: str = Field(default="AB-12", pattern=r"^[A-Z]{2}-\d{2}$")

    example = example_message(Coded, model_to_avro(Coded))
    assert example.problem is None and example.data == {"code": "AB-12"}
