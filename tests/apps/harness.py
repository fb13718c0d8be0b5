"""An App's processor on one in-memory partition, as the service builds it, for unit tests
of what runs around the processor (the batch worker, the loop)."""

from __future__ import annotations

import uuid

from confluent_kafka.schema_registry import SchemaRegistryClient

from clubhouse.application import App, Dispatcher
from clubhouse.contracts import BaseMessage, Command
from clubhouse.messaging.late_models import LateModels
from clubhouse.messaging.processor import CommandProcessor, Processed
from clubhouse.messaging.schema_registrator import SchemaRegistrator
from clubhouse.messaging.serde import MessageSerde
from clubhouse.runtime.partitions import PartitionState
from clubhouse.runtime.state_store import PartitionStore
from clubhouse.services.kafka_protocol import ConsumedRecord
from clubhouse.services.schema_registry import ConfluentSchemaRegistry


class AppHarness:
    """Serde, dispatcher and processor of ``app`` against a mock registry, one partition."""

    def __init__(self, app: App, *, handler_timeout_s: float | None = None) -> None:
        client = SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})
        self.registry = ConfluentSchemaRegistry(client)
        catalog = app.catalog()
        SchemaRegistrator(self.registry, catalog, app.prefix).register_all_schemas()
        self.serde = MessageSerde(self.registry, catalog, app.prefix)
        self.serde.prepare()
        self.app = app
        self.dispatcher = Dispatcher(app, handler_timeout_s=handler_timeout_s)
        late = LateModels(self.registry, self.serde, app.prefix)
        self.processor = CommandProcessor(self.serde, self.dispatcher, app.prefix,
                                          adopt=late.adopt)  # fmt: skip
        self.partition = PartitionState(0, PartitionStore(":memory:"), epoch=1)
        self.offset = 0

    def record(self, command: Command) -> ConsumedRecord:
        """``command`` as the next record of the partition, keyed by its key."""
        self.offset += 1
        key = self.app.key_for(command)
        return ConsumedRecord(f"{self.app.prefix}-commands", 0, self.offset,
                              None if key is None else key.encode(),
                              self.serde.serialize(command))  # fmt: skip

    def decode(self, processed: Processed) -> list[BaseMessage]:
        return [self.serde.deserialize(r.value or b"") for r in processed.records]

    def state(self, key: str) -> dict[str, object] | None:
        entry = self.partition.get(key)
        return None if entry is None else entry.state
