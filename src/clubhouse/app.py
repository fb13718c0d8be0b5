"""Assembles the Clubhouse service from its parts and runs it until asked to stop.

Start-up order: reach the registry, register every schema (bases first), load the schema ids,
create missing topics, open the agent store, then consume. Shutdown: stop consuming, finish
and commit the batch in flight, flush, close, all within ``shutdown_timeout_s``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clubhouse.agents import AgentFactory, builtin_agent_factory
from clubhouse.agents.app import builtin_app
from clubhouse.application import App, Dispatcher
from clubhouse.contracts import Command, MessageCatalog, Response
from clubhouse.errors import ClubhouseError
from clubhouse.messaging.outbound import RecordBuilder
from clubhouse.messaging.processor import CommandProcessor
from clubhouse.messaging.publish_guard import PRODUCER_DEFAULT_MAX, PublishGuard, SizeLimits
from clubhouse.messaging.schema_registrator import RegistrationReport, SchemaRegistrator
from clubhouse.messaging.serde import MessageSerde
from clubhouse.messaging.service_loop import ServiceLoop
from clubhouse.messaging.state_store import SqliteStateStore, StateStore
from clubhouse.messaging.subjects import all_topics, dead_letter_topic, topic_for
from clubhouse.observability import Health, ObservabilityServer, ServiceMetrics
from clubhouse.services.kafka import (
    KafkaAdmin,
    KafkaConsumer,
    KafkaProducer,
    KafkaSettings,
)
from clubhouse.services.kafka_admin import TopicSpec
from clubhouse.services.kafka_protocol import SchemaRegistryProtocol
from clubhouse.services.schema_registry import (
    ConfluentSchemaRegistry,
    RegistrySettings,
    wait_for_registry,
)

log = logging.getLogger(__name__)


class StartupError(ClubhouseError):
    """The service cannot start; the message says which step failed and why."""


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the service needs; the CLI builds one from flags and environment."""

    kafka: KafkaSettings
    registry: RegistrySettings
    app: App | None = None  # None: the built-in agent platform, with ``agent_factory``
    catalog: MessageCatalog = field(default_factory=MessageCatalog)  # models beyond the app's
    topic_prefix: str = "clubhouse"
    state_db: Path = Path(".clubhouse/agents.db")
    agent_factory: AgentFactory = builtin_agent_factory
    group_id: str | None = None  # default: "{topic_prefix}-service"
    partitions: int = 3
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    registry_wait_s: float = 0.0
    register_workers: int = 8
    batch_size: int = 200
    publish_timeout_s: float = 30.0  # one wait for a batch's acknowledgements
    shutdown_timeout_s: float = 30.0  # how long close() may flush what is still queued
    stall_after_s: float = 60.0  # /readyz turns not-ready when records wait this long

    @property
    def consumer_group(self) -> str:
        """``group_id``, or ``{topic_prefix}-service``."""
        return self.group_id or f"{self.topic_prefix}-service"

    def resolved_app(self) -> App:
        """The App to serve: the configured one, or the built-in agent platform."""
        if self.app is not None:
            return self.app
        return builtin_app(self.agent_factory, self.topic_prefix)

    def full_catalog(self, app: App) -> MessageCatalog:
        """Every model to register: the app's, then ``catalog``'s."""
        catalog = app.catalog()
        catalog.add_models(self.catalog)
        return catalog


def _consumer(settings: KafkaSettings, group_id: str) -> KafkaConsumer:
    return KafkaConsumer(settings, group_id=group_id)


@dataclass(frozen=True)
class ServiceParts:
    """How the service builds the parts that touch the outside world; replace any of them
    to embed the service or to test it."""

    admin: Callable[[KafkaSettings], KafkaAdmin] = KafkaAdmin
    producer: Callable[[KafkaSettings], KafkaProducer] = KafkaProducer
    consumer: Callable[[KafkaSettings, str], KafkaConsumer] = _consumer
    store: Callable[[Path], StateStore] = SqliteStateStore


class ClubhouseService:
    """One running service. ``start()`` prepares everything, ``run(stop)`` serves."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        registry: SchemaRegistryProtocol | None = None,
        parts: ServiceParts | None = None,
    ) -> None:
        self.config = config
        self._parts = parts or ServiceParts()
        self._registry = registry
        self._owns_registry = registry is None
        self.app = config.resolved_app()
        self.catalog = config.full_catalog(self.app)
        self._dispatcher = Dispatcher(self.app)
        self.metrics = ServiceMetrics()
        self.health = Health(stall_after_s=config.stall_after_s)
        self._loop: ServiceLoop | None = None
        self._producer: KafkaProducer | None = None
        self._consumer: KafkaConsumer | None = None
        self._store: StateStore | None = None
        self._http: ObservabilityServer | None = None
        self.registration: RegistrationReport | None = None

    def start(self) -> RegistrationReport:
        """Register schemas, load ids, create topics, open the store and the clients."""
        cfg = self.config
        registry = self._registry
        if registry is None:
            registry = ConfluentSchemaRegistry.from_settings(cfg.registry)
            self._registry = registry
        wait_for_registry(registry, cfg.registry_wait_s)
        report = SchemaRegistrator(
            registry, self.catalog, cfg.topic_prefix, max_workers=cfg.register_workers
        ).register_all_schemas()
        self.registration = report
        log.info(
            "schemas registered",
            extra={"registered_count": report.registered_count, "failed": len(report.failed)},
        )
        serde = MessageSerde(registry, self.catalog, cfg.topic_prefix)
        serde.prepare()  # every schema must be there, whatever registration managed

        admin = self._parts.admin(cfg.kafka)
        topics = [TopicSpec(t, partitions=cfg.partitions) for t in all_topics(cfg.topic_prefix)]

        def ensure_topics() -> None:
            admin.ensure_topics(topics)

        ensure_topics()
        self._store = self._parts.store(cfg.state_db)
        self._producer = self._parts.producer(cfg.kafka)
        self._consumer = self._parts.consumer(cfg.kafka, cfg.consumer_group)
        records = RecordBuilder(serde, cfg.topic_prefix)
        limits = SizeLimits(
            int(cfg.kafka.producer_config(idempotence=True).get(
                "message.max.bytes", PRODUCER_DEFAULT_MAX)),
            admin.max_message_bytes(t.name for t in topics),
        )  # fmt: skip
        log.info("record size limits", extra={"producer_max": limits.producer_max,
                                               "topic_max": dict(limits.topic_max)})  # fmt: skip
        guard = PublishGuard(
            limits,
            responses_topic=topic_for(cfg.topic_prefix, Response),
            dead_letter_topic=dead_letter_topic(cfg.topic_prefix),
            error_record=records.error_record,
            count_failure=lambda reason: self.metrics.permanent_failures.labels(reason).inc(),
        )
        processor = CommandProcessor(
            serde, self._dispatcher, self._store, self.catalog, cfg.topic_prefix, records=records
        )
        self._loop = ServiceLoop(
            consumer=self._consumer,
            producer=self._producer,
            processor=processor,
            guard=guard,
            commands_topic=topic_for(cfg.topic_prefix, Command),
            metrics=self.metrics,
            health=self.health,
            ensure_topics=ensure_topics,
            batch_size=cfg.batch_size,
            publish_timeout_s=cfg.publish_timeout_s,
        )
        if cfg.metrics_port is not None:
            self._http = ObservabilityServer(
                self.metrics, self.health, cfg.metrics_host, cfg.metrics_port
            )
            self._http.start()
        self.health.detail.update(
            {"topic_prefix": cfg.topic_prefix, "schemas": report.registered_count}
        )
        return report

    def run(self, stop: threading.Event) -> None:
        """Serve until ``stop`` is set, then shut down cleanly."""
        if self._loop is None:
            raise StartupError("start() must succeed before run()")
        try:
            self._loop.run(stop)
        finally:
            self.close()

    @property
    def metrics_port(self) -> int | None:
        """The port of /metrics, /healthz and /readyz once started; None when not served."""
        return None if self._http is None else self._http.port

    def close(self) -> None:
        """Release everything; safe to call more than once."""
        if self._consumer is not None:
            self._consumer.close()  # leaves the group: partitions move on at once
            self._consumer = None
        if self._producer is not None:
            self._producer.close(self.config.shutdown_timeout_s)
            self._producer = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self._dispatcher.close()
        if self._http is not None:
            self._http.stop()
            self._http = None
        if self._owns_registry and isinstance(self._registry, ConfluentSchemaRegistry):
            self._registry.close()
        log.info("service stopped")
