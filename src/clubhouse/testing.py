"""``TestApp``: run an App's handlers in memory, through the service's own code path.

Every command goes through the real codec (Avro encode, Confluent framing, decode against
registered schemas), the real ``CommandProcessor`` (dedupe, dispatch, keyed state, stored
outcomes) and a real partition store; only Kafka is left out (one partition, and every
``send_many`` batch counts as committed). Schemas are registered in
confluent-kafka's own in-memory mock registry, so a model the real registry would refuse
fails here too, in milliseconds::

    with TestApp(app) as t:
        reply = t.send(PlaceOrderCommand(order_id="o1", item="book"))
        assert isinstance(reply, OrderAcceptedResponse)
        assert t.state("o1") == {"status": "placed"}
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient

from clubhouse.application import App, Dispatcher
from clubhouse.contracts import BaseMessage, Command, Event, Response
from clubhouse.messaging.late_models import LateModels
from clubhouse.messaging.processor import CommandProcessor
from clubhouse.messaging.schema_registrator import SchemaRegistrationError, SchemaRegistrator
from clubhouse.messaging.serde import MessageSerde
from clubhouse.runtime.partitions import PartitionState
from clubhouse.runtime.state_store import PartitionStore
from clubhouse.services.kafka_protocol import ConsumedRecord
from clubhouse.services.schema_registry import ConfluentSchemaRegistry


class TestApp:
    """An App served in memory; ``send`` returns the response that answers the command."""

    __test__ = False  # a harness, not a pytest test class

    def __init__(self, app: App, *, state_db: Path | str = ":memory:") -> None:
        self.app = app
        prefix = app.prefix
        client = SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})
        self.registry = ConfluentSchemaRegistry(client)
        self.catalog = app.catalog()
        report = SchemaRegistrator(self.registry, self.catalog, prefix).register_all_schemas()
        if report.failed:
            first = report.failed[0]
            raise SchemaRegistrationError(first.subject, first.error or "registration failed")
        self._serde = MessageSerde(self.registry, self.catalog, prefix)
        self._serde.prepare()
        self._state = PartitionState(0, PartitionStore(state_db), epoch=1)
        self._dispatcher = Dispatcher(app)
        late = LateModels(self.registry, self._serde, prefix)
        self._processor = CommandProcessor(self._serde, self._dispatcher, prefix, adopt=late.adopt)
        self._topic = f"{prefix}-commands"
        self._offset = 0
        self.published: list[BaseMessage] = []

    def send(self, command: Command) -> Response | None:
        """Handle ``command`` as the service would; its response, or None if it has none."""
        return self.send_many([command])[0]

    def send_many(self, commands: list[Command]) -> list[Response | None]:
        """Handle ``commands`` as one consumed batch; one answer (or None) per command."""
        answers: dict[uuid.UUID, Response] = {}
        for command in commands:
            key = self.app.key_for(command)
            self._offset += 1
            record = ConsumedRecord(
                self._topic,
                0,
                self._offset,
                None if key is None else key.encode(),
                self._serde.serialize(command),
            )
            processed = self._processor.process(record, self._state)
            for out in processed.records:
                assert out.value is not None  # only changelog records are tombstones
                message = self._serde.deserialize(out.value)
                self.published.append(message)
                if isinstance(message, Response) and message.in_response_to is not None:
                    answers.setdefault(message.in_response_to, message)
        self._state.committed(self._offset)
        return [answers.get(c.message_id) for c in commands]

    @property
    def events(self) -> list[Event]:
        """Every event published so far, in order."""
        return [m for m in self.published if isinstance(m, Event)]

    def state(self, key: str) -> dict[str, Any] | None:
        """The stored state of ``key``, or None when it has none."""
        entry = self._state.get(key)
        return None if entry is None else entry.state

    def close(self) -> None:
        """Close the async handlers' event loop and the state store."""
        self._dispatcher.close()
        self._state.store.close()

    def __enter__(self) -> TestApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
