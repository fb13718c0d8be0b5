"""Consumers read messages written with older registered versions through schema resolution."""

from __future__ import annotations

import json

import pytest

from clubhouse.avro import unframe
from clubhouse.contracts import MessageCatalog
from clubhouse.messaging.serde import MessageSerde
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.schema_registry import ConfluentSchemaRegistry
from tests.integration.evolution.helpers import order, register

pytestmark = pytest.mark.integration


def test_v1_message_decodes_into_v2_with_defaults(
    registry: ConfluentSchemaRegistry, prefix: str
) -> None:
    register(registry, prefix, "order_v1", "order_defaulted")
    v1, v2 = order("order_v1"), order("order_defaulted")
    subject = subject_name(prefix, v1)
    v1_id = registry.get_version(subject, 1).schema_id
    v2_id = registry.get_version(subject, 2).schema_id
    producer = MessageSerde(registry, MessageCatalog([v1]), prefix)
    consumer = MessageSerde(registry, MessageCatalog([v2]), prefix)
    producer.prepare()
    consumer.prepare()
    sent = v1(sku="A-1", qty=3)

    data = producer.serialize(sent)
    received = consumer.deserialize(data)

    assert unframe(data)[0] == v1_id != v2_id  # framed with v1's real registered id
    assert json.loads(registry.get_schema(v1_id)) == json.loads(model_schema(v1))
    assert type(received) is v2
    assert received.model_dump() == {**sent.model_dump(), "priority": 0}


def test_v2_message_decodes_into_v1_dropping_the_new_field(
    registry: ConfluentSchemaRegistry, prefix: str
) -> None:
    register(registry, prefix, "order_v1", "order_defaulted")
    v1, v2 = order("order_v1"), order("order_defaulted")
    producer = MessageSerde(registry, MessageCatalog([v2]), prefix)
    consumer = MessageSerde(registry, MessageCatalog([v1]), prefix)
    producer.prepare()
    consumer.prepare()
    sent = v2(sku="B-2", qty=1, priority=9)

    received = consumer.deserialize(producer.serialize(sent))

    assert type(received) is v1
    assert received.model_dump() == {k: v for k, v in sent.model_dump().items() if k != "priority"}
