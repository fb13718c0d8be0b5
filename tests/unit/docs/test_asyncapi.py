"""asyncapi.yaml: valid AsyncAPI 3.0, every message, Avro payloads, the service's operations."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from clubhouse.docs import DocsModel, render_asyncapi
from clubhouse.docs.asyncapi import AVRO_SCHEMA_FORMAT, asyncapi_document
from tests.unit.docs.asyncapi_validation import asyncapi_errors


def _doc(docs: DocsModel) -> dict[str, Any]:
    loaded = yaml.safe_load(render_asyncapi(docs))
    assert isinstance(loaded, dict)
    return loaded


def test_the_document_validates_against_the_official_schema(docs: DocsModel) -> None:
    assert asyncapi_errors(_doc(docs)) == []


def test_the_validator_catches_a_broken_document_and_a_broken_avro_payload(
    docs: DocsModel,
) -> None:
    # Without this, a validator that accepted anything would make the test above worthless.
    broken = copy.deepcopy(_doc(docs))
    del broken["channels"]["commands"]["address"]
    broken["operations"]["receiveCommands"]["action"] = "consume"
    assert any("receiveCommands" in e for e in asyncapi_errors(broken))
    bad_avro = copy.deepcopy(_doc(docs))
    payload = bad_avro["components"]["messages"]["CreateAgentCommand"]["payload"]["schema"]
    payload["fields"][0]["name"] = "not a valid avro name"
    assert asyncapi_errors(bad_avro) != []


def test_every_message_is_a_component_with_its_avro_schema(docs: DocsModel) -> None:
    messages = _doc(docs)["components"]["messages"]
    assert list(messages) == docs.names
    for m in docs.messages:
        payload = messages[m.name]["payload"]
        assert payload["schemaFormat"] == AVRO_SCHEMA_FORMAT
        assert payload["schema"] == m.schema
        assert messages[m.name]["x-clubhouse-subject"] == m.subject
        assert messages[m.name]["examples"][0]["payload"] == m.example.data


def test_channels_are_topics_carrying_their_concrete_messages(docs: DocsModel) -> None:
    channels = _doc(docs)["channels"]
    assert [c["address"] for c in channels.values()] == [t.name for t in docs.topics]
    commands = channels["commands"]["messages"]
    assert "OpenTicketCommand" in commands and "Command" not in commands
    assert commands["OpenTicketCommand"] == {"$ref": "#/components/messages/OpenTicketCommand"}
    assert "HostileEvent" in channels["events"]["messages"]


def test_the_service_receives_commands_and_sends_responses_and_events(docs: DocsModel) -> None:
    ops = asyncapi_document(docs)["operations"]
    assert ops["receiveCommands"]["action"] == "receive"
    assert ops["receiveCommands"]["reply"]["channel"] == {"$ref": "#/channels/responses"}
    assert ops["sendResponses"]["action"] == "send"
    assert ops["sendEvents"]["action"] == "send"
    refs = [r["$ref"] for r in ops["sendEvents"]["messages"]]
    assert "#/channels/events/messages/HostileEvent" in refs
    correlation = asyncapi_document(docs)["components"]["messages"]["TicketOpenedResponse"]
    assert correlation["correlationId"]["location"] == "$message.payload#/in_response_to"
