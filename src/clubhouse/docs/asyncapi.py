"""``asyncapi.yaml``: an AsyncAPI 3.0 description of the topics, operations and messages.

Channels are the topics. The service *receives* commands (and replies on the responses topic)
and *sends* responses and events. Every catalog model is a component message whose payload is
its Avro schema; the concrete ones are listed on their topic's channel.
"""

from __future__ import annotations

from typing import Any

import yaml

from clubhouse.docs.model import DocsModel, MessageDoc, TopicDoc

ASYNCAPI_VERSION = "3.0.0"
AVRO_SCHEMA_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
# Confluent framing (magic byte, schema id, Avro binary) is not a registered media type.
WIRE_CONTENT_TYPE = "application/octet-stream"
KAFKA_BINDING_VERSION = "0.5.0"

_CHANNEL_IDS = {
    "commands": "commands",
    "responses": "responses",
    "events": "events",
    "dead-letters": "deadLetters",
}


def asyncapi_document(docs: DocsModel) -> dict[str, Any]:
    """The AsyncAPI document as plain data (what ``render_asyncapi`` dumps as YAML)."""
    by_name = {m.name: m for m in docs.messages}
    channels = {_CHANNEL_IDS[t.kind]: _channel(t) for t in docs.topics}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": docs.title,
            "version": docs.version,
            "description": (
                f"Clubhouse commands, responses and events on the `{docs.topic_prefix}-*` "
                "topics. Each message value is Confluent-framed Avro: byte 0x00, the schema id "
                f"as 4 bytes big-endian, then the Avro binary body. The key is "
                f"{docs.key_text()}, which keeps all messages of one key in order."
            ),
        },
        "defaultContentType": WIRE_CONTENT_TYPE,
        "channels": channels,
        "operations": _operations(docs, by_name),
        "components": {"messages": {m.name: _message(docs, m) for m in docs.messages}},
    }


def render_asyncapi(docs: DocsModel) -> str:
    """The complete ``asyncapi.yaml`` for ``docs``."""
    return yaml.safe_dump(asyncapi_document(docs), sort_keys=False, allow_unicode=True, width=100)


def _channel(topic: TopicDoc) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": topic.name,
        "title": topic.name,
        "description": topic.description,
    }
    if topic.messages:
        channel["messages"] = {
            name: {"$ref": f"#/components/messages/{name}"} for name in topic.messages
        }
    channel["bindings"] = {"kafka": {"topic": topic.name, "bindingVersion": KAFKA_BINDING_VERSION}}
    return channel


def _operations(docs: DocsModel, by_name: dict[str, MessageDoc]) -> dict[str, Any]:
    topics = {t.kind: t for t in docs.topics}

    def refs(topic: TopicDoc) -> list[dict[str, str]]:
        channel = _CHANNEL_IDS[topic.kind]
        return [{"$ref": f"#/channels/{channel}/messages/{n}"} for n in topic.messages]

    ops: dict[str, Any] = {}
    commands, responses, events = topics["commands"], topics["responses"], topics["events"]
    if commands.messages:
        op: dict[str, Any] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/commands"},
            "title": "Handle commands",
            "summary": "The service consumes every command from the commands topic.",
            "messages": refs(commands),
        }
        if responses.messages:
            op["reply"] = {"channel": {"$ref": "#/channels/responses"}, "messages": refs(responses)}
        ops["receiveCommands"] = op
    if responses.messages:
        ops["sendResponses"] = {
            "action": "send",
            "channel": {"$ref": "#/channels/responses"},
            "title": "Answer commands",
            "summary": "One response per command, carrying the command's id in in_response_to.",
            "messages": refs(responses),
        }
    if events.messages:
        ops["sendEvents"] = {
            "action": "send",
            "channel": {"$ref": "#/channels/events"},
            "title": "Publish events",
            "summary": "What happened, for any interested subscriber.",
            "messages": refs(events),
        }
    return ops


def _message(docs: DocsModel, m: MessageDoc) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": m.name,
        "title": m.name,
        "summary": (m.description.split("\n", 1)[0] or m.name),
        "contentType": WIRE_CONTENT_TYPE,
        "payload": {"schemaFormat": AVRO_SCHEMA_FORMAT, "schema": m.schema},
    }
    if m.description:
        message["description"] = m.description
    correlation = _correlation(m)
    if correlation:
        message["correlationId"] = correlation
    message["bindings"] = {
        "kafka": {
            "key": {"type": "string", "description": f"The key: {docs.key_text()}."},
            "schemaIdLocation": "payload",
            "schemaIdPayloadEncoding": "confluent",
            "schemaLookupStrategy": f"subject {m.subject} ({docs.topic_prefix}-<Model>-value)",
            "bindingVersion": KAFKA_BINDING_VERSION,
        }
    }
    message["examples"] = [{"name": f"{m.name}Example", "payload": m.example.data}]
    message["x-clubhouse-subject"] = m.subject
    if m.message_type:
        message["x-clubhouse-message-type"] = m.message_type
    if m.is_base:
        message["x-clubhouse-base"] = True
    registry = m.registry
    if registry is not None and registry.registered:
        message["x-clubhouse-schema-id"] = registry.current_id
        message["x-clubhouse-schema-version"] = registry.current_version
    return message


def _correlation(m: MessageDoc) -> dict[str, str] | None:
    names = {f.name for f in m.fields}
    if m.kind == "response" and "in_response_to" in names:
        return {
            "description": "The message_id of the command this answers.",
            "location": "$message.payload#/in_response_to",
        }
    if m.kind == "command" and "message_id" in names:
        return {
            "description": "Responses carry this id in in_response_to.",
            "location": "$message.payload#/message_id",
        }
    return None
