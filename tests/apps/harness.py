"""Processors on one in-memory partition, as the service builds them, for unit tests of the
processor and of what runs around it (the batch worker, the loop): ``Harness`` serves the
bundled agents app, ``AppHarness`` any App."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient

from clubhouse.agents import builtin_agent_factory
from clubhouse.agents.app import builtin_app
from clubhouse.agents.messages import agents_catalog
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


class Harness:
    """The processor on one partition; each ``send`` is a batch committed at once, unless
    inside ``batch()``."""

    def __init__(self, db: Path | str = ":memory:", factory: Any = builtin_agent_factory) -> None:
        client = SchemaRegistryClient.new_client({"url": "mock://processor"})
        self.registry = ConfluentSchemaRegistry(client)
        self.catalog = agents_catalog()
        SchemaRegistrator(self.registry, self.catalog, "t").register_all_schemas()
        self.serde = MessageSerde(self.registry, self.catalog, "t")
        self.serde.prepare()
        self.partition = PartitionState(0, PartitionStore(db), epoch=1)
        self.app = builtin_app(factory, "t")
        self.processor = CommandProcessor(self.serde, Dispatcher(self.app), "t")
        self.offset = 0
        self._in_batch = False

    def send(self, message: BaseMessage) -> Processed:
        key = self.app.key_for(message) if isinstance(message, Command) else None
        return self.raw(self.serde.serialize(message), None if key is None else key.encode())

    def raw(self, value: bytes | None, key: bytes | None = None) -> Processed:
        self.offset += 1
        record = ConsumedRecord("t-commands", 0, self.offset, key, value)
        processed = self.processor.process(record, self.partition)
        if not self._in_batch:
            self.partition.committed(self.offset)
        return processed

    @contextmanager
    def batch(self) -> Iterator[None]:
        self._in_batch = True
        try:
            yield
        except BaseException:
            self.partition.discard()
            raise
        finally:
            self._in_batch = False
        self.partition.committed(self.offset)

    def state(self, key: str) -> dict[str, Any] | None:
        entry = self.partition.get(key)
        return None if entry is None else entry.state

    def decode(self, processed: Processed) -> list[BaseMessage]:
        return [self.serde.deserialize(r.value or b"") for r in processed.records]
