"""``TestApp``: run one App's handlers, or several apps that talk, in memory, through the
service's own code path.

Every message goes through the real codec (Avro encode, Confluent framing, decode against
registered schemas), the real ``CommandProcessor`` (dedupe, dispatch, keyed state, stored
outcomes), the real ``FeedRouter`` for event and response handlers, and a real partition
store; only Kafka is left out (one partition per app, and every batch counts as committed).
Schemas are registered in confluent-kafka's own in-memory mock registry, so a model the real
registry would refuse fails here too, in milliseconds::

    with TestApp(app) as t:
        reply = t.send(PlaceOrderCommand(order_id="o1", item="book"))
        assert isinstance(reply, OrderAcceptedResponse)
        assert t.state("o1") == {"status": "placed"}

Given several apps, what one publishes reaches the others as it would through Kafka: a
command sent with ``ctx.send(..., to=...)`` is handled by the app with that prefix, and an
event or response by every app with a handler following its topic, until nothing is left
to deliver. A saga across apps is tested in one call::

    with TestApp(orders, inventory) as t:
        t.send(PlaceOrder(order_id="o1", item="book", quantity=1))
        assert t.state("o1")["status"] == "accepted"
        assert t.state("book", app=inventory)["available"] == 9
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient

from clubhouse.application import App, Dispatcher
from clubhouse.contracts import BaseMessage, Command, Event, MessageCatalog, Response
from clubhouse.errors import ClubhouseError
from clubhouse.messaging.feed_router import FeedRouter
from clubhouse.messaging.late_models import LateModels
from clubhouse.messaging.outbound import Outbound
from clubhouse.messaging.processor import DLQ_ERROR, DLQ_REASON, CommandProcessor
from clubhouse.messaging.schema_registrator import SchemaRegistrationError, SchemaRegistrator
from clubhouse.messaging.serde import MessageSerde
from clubhouse.messaging.state_codec import AvroStateCodec
from clubhouse.messaging.subjects import topic_for
from clubhouse.runtime.partitions import PartitionState
from clubhouse.runtime.state_store import PartitionStore
from clubhouse.services.kafka_protocol import ConsumedRecord
from clubhouse.services.schema_registry import ConfluentSchemaRegistry


class DeliveryLoopError(ClubhouseError):
    """The apps kept publishing to each other past ``max_deliveries`` records in one call."""


@dataclass
class _Served:
    """One app served in memory: its codec, processor, state and feed router."""

    app: App
    serde: MessageSerde
    dispatcher: Dispatcher
    processor: CommandProcessor
    state: PartitionState
    router: FeedRouter
    commands_topic: str
    feeds: frozenset[str]


class TestApp:
    """Apps served in memory; ``send`` returns the response that answers the command."""

    __test__ = False  # a harness, not a pytest test class

    def __init__(
        self, app: App, *more: App, state_db: Path | str = ":memory:",
        max_deliveries: int = 100_000,
    ) -> None:  # fmt: skip
        """Serve ``app``, and ``more`` apps beside it; ``state_db`` is the first app's
        state store (a file, to look at it afterwards), the others' are in memory. Past
        ``max_deliveries`` records in one call, apps that keep messaging each other are
        taken for a loop."""
        self.app = app
        self._max_deliveries = max_deliveries
        client = SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})
        self.registry = ConfluentSchemaRegistry(client)
        self._served: list[_Served] = []
        try:
            for index, served in enumerate((app, *more)):
                db = state_db if index == 0 or str(state_db) == ":memory:" else ":memory:"
                self._served.append(self._serve(served, db))
        except BaseException:
            self.close()
            raise
        self._offsets: dict[str, int] = {}
        self.published: list[BaseMessage] = []
        # (reason, error) of each record an app dead-lettered, in order.
        self.dead_letters: list[tuple[str, str]] = []

    @property
    def catalog(self) -> MessageCatalog:
        """The first app's catalog of models."""
        return self._served[0].app.catalog()

    def _serve(self, app: App, state_db: Path | str) -> _Served:
        prefix = app.prefix
        catalog = app.catalog()
        report = SchemaRegistrator(self.registry, catalog, prefix).register_all_schemas()
        if report.failed:
            first = report.failed[0]
            raise SchemaRegistrationError(first.subject, first.error or "registration failed")
        serde = MessageSerde(self.registry, catalog, prefix)
        serde.prepare()
        dispatcher = Dispatcher(app)
        late = LateModels(self.registry, serde, prefix)
        model = app.state_model
        codec = None if model is None else AvroStateCodec(serde, model)
        return _Served(
            app=app,
            serde=serde,
            dispatcher=dispatcher,
            processor=CommandProcessor(
                serde, dispatcher, prefix, adopt=late.adopt, state_codec=codec
            ),
            state=PartitionState(0, PartitionStore(state_db, codec), epoch=1),
            router=FeedRouter(serde, app, app.prefixes()),
            commands_topic=topic_for(prefix, Command),
            feeds=frozenset(app.feed_topics()),
        )

    def send(self, command: Command, *, to: App | str | None = None) -> Response | None:
        """Handle ``command`` as the service would; its response, or None if it has none.

        It goes to ``to`` (an App, or its prefix), else to the first app that handles it.
        Everything it leads to is delivered before this returns.
        """
        return self.send_many([command], to=to)[0]

    def send_many(
        self, commands: list[Command], *, to: App | str | None = None
    ) -> list[Response | None]:
        """Handle ``commands`` in order; one answer (or None) per command."""
        answers: dict[uuid.UUID, Response] = {}
        pending: deque[Outbound] = deque()
        for command in commands:
            served = self._addressee(command, to)
            key = served.app.key_for(command)
            record = Outbound(served.commands_topic, None if key is None else key.encode(),
                              served.serde.serialize(command))  # fmt: skip
            pending.append(record)
        self._deliver(pending, answers)
        return [answers.get(c.message_id) for c in commands]

    def publish(self, message: Event | Response, *, source: App | str | None = None) -> None:
        """Publish ``message`` on the events (or responses) topic of ``source`` (an App or a
        prefix; the first app's by default), as another service would; every app following
        that topic handles it, and everything that leads to is delivered."""
        prefix = source.prefix if isinstance(source, App) else source or self.app.prefix
        served = self._served[0]
        record = Outbound(topic_for(prefix, type(message)), None, served.serde.serialize(message))
        self._deliver(deque([record]), {})

    def _addressee(self, command: Command, to: App | str | None) -> _Served:
        if to is not None:
            prefix = to.prefix if isinstance(to, App) else to
            for served in self._served:
                if served.app.prefix == prefix:
                    return served
            raise ValueError(f"no app with prefix {prefix!r} is served here")
        for served in self._served:
            if served.app.handler_for(type(command)) is not None:
                return served
        return self._served[0]  # answered unsupported_command, as the service would

    def _deliver(self, pending: deque[Outbound], answers: dict[uuid.UUID, Response]) -> None:
        """Deliver records, and what they lead to, until none is left."""
        delivered = 0
        while pending:
            delivered += 1
            if delivered > self._max_deliveries:
                raise DeliveryLoopError(
                    f"the apps published more than {self._max_deliveries} records in one call; "
                    "do two handlers keep answering each other?"
                )
            out = pending.popleft()
            consumed = self._consumed(out)
            for served in self._served:
                if out.topic == served.commands_topic:
                    processed = served.processor.process(consumed, served.state)
                    served.state.committed(consumed.offset)
                    for record in processed.records:
                        self._published(served, record, answers)
                        pending.append(record)
                elif out.topic in served.feeds:
                    routed = served.router.route(consumed)
                    if routed is not None:
                        pending.append(routed)

    def _consumed(self, out: Outbound) -> ConsumedRecord:
        offset = self._offsets[out.topic] = self._offsets.get(out.topic, -1) + 1
        return ConsumedRecord(out.topic, 0, offset, out.key, out.value, tuple(out.headers))

    def _published(
        self, served: _Served, record: Outbound, answers: dict[uuid.UUID, Response]
    ) -> None:
        if record.value is None or record.topic == served.commands_topic:
            return  # a record forwarded to its own key: the same message, not a new one
        if record.topic.endswith("-dead-letters"):
            headers = dict(record.headers)
            self.dead_letters.append((headers.get(DLQ_REASON, b"").decode(),
                                      headers.get(DLQ_ERROR, b"").decode()))  # fmt: skip
            return
        message = served.serde.deserialize(record.value)
        self.published.append(message)
        if isinstance(message, Response) and message.in_response_to is not None:
            answers.setdefault(message.in_response_to, message)

    @property
    def events(self) -> list[Event]:
        """Every event published so far, in order."""
        return [m for m in self.published if isinstance(m, Event)]

    @property
    def commands(self) -> list[Command]:
        """Every command a handler sent with ``ctx.send`` so far, in order."""
        return [m for m in self.published if isinstance(m, Command)]

    def state(self, key: str, *, app: App | None = None) -> Any:
        """The stored state of ``key`` in ``app`` (the first app by default), or None: a
        dict of JSON values, or an instance of the app's state model when it has one (read
        back from the Avro its changelog entry holds)."""
        served = self._served[0] if app is None else next(
            (s for s in self._served if s.app is app), None
        )  # fmt: skip
        if served is None:
            raise ValueError("that app is not served here")
        entry = served.state.store.get(key)  # as committed, decoded from its stored bytes
        if entry is None or entry.state is None:
            return None
        model = served.app.state_model
        return entry.state if model is None else model.model_validate(entry.state)

    def close(self) -> None:
        """Close the async handlers' event loops and the state stores."""
        for served in self._served:
            served.dispatcher.close()
            served.state.store.close()

    def __enter__(self) -> TestApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
