"""Assembles the Clubhouse service from its parts and runs it until asked to stop.

Start-up order: reach the registry, register every schema (bases first), load the schema ids,
create missing topics (the compacted state changelog among them), register the transactional
id, then consume; each partition's state is restored from the changelog when it is assigned.
Shutdown: stop consuming, finish and commit the batch in flight, close, all within
``shutdown_timeout_s``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from clubhouse.agents import AgentFactory, builtin_agent_factory
from clubhouse.agents.app import builtin_app
from clubhouse.application import App, Dispatcher, Prefixes
from clubhouse.contracts import Command, MessageCatalog, Response
from clubhouse.dir_lock import DirLock
from clubhouse.errors import ClubhouseError
from clubhouse.messaging.entries import DedupeWindow, StateCodec
from clubhouse.messaging.feed_router import FeedRouter
from clubhouse.messaging.late_models import LateModels
from clubhouse.messaging.outbound import RecordBuilder
from clubhouse.messaging.processor import CommandProcessor
from clubhouse.messaging.publish_guard import PRODUCER_DEFAULT_MAX, PublishGuard, SizeLimits
from clubhouse.messaging.schema_registrator import RegistrationReport, SchemaRegistrator
from clubhouse.messaging.serde import MessageSerde
from clubhouse.messaging.state_codec import AvroStateCodec
from clubhouse.messaging.subjects import all_topics, dead_letter_topic, topic_for
from clubhouse.observability import Health, ObservabilityServer, ServiceMetrics
from clubhouse.runtime.batch_worker import BatchWorker
from clubhouse.runtime.changelog import changelog_topic
from clubhouse.runtime.committers import (
    AtLeastOnceCommitter,
    BatchCommitter,
    TransactionalCommitter,
)
from clubhouse.runtime.feed_loop import FeedLoop
from clubhouse.runtime.partitions import OwnedPartitions
from clubhouse.runtime.restore import ChangelogRestorer, Restored
from clubhouse.runtime.service_loop import ServiceLoop
from clubhouse.runtime.state_endpoint import StateEndpoint
from clubhouse.runtime.state_store import PartitionStore
from clubhouse.runtime.transactional_id import instance_id_for, transactional_id
from clubhouse.runtime.transactional_producer import TransactionalProducer
from clubhouse.services.kafka import (
    KafkaAdmin,
    KafkaConsumer,
    KafkaProducer,
    KafkaSettings,
)
from clubhouse.services.kafka_admin import TopicSpec
from clubhouse.services.kafka_errors import KafkaClientError
from clubhouse.services.kafka_protocol import SchemaRegistryProtocol
from clubhouse.services.partitioning import KeyPartitioner
from clubhouse.services.registry_settings import RegistrySettings
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, wait_for_registry

log = logging.getLogger(__name__)


class StartupError(ClubhouseError):
    """The service cannot start; the message says which step failed and why."""


ProcessingGuarantee = Literal["exactly-once", "at-least-once"]
PROCESSING_GUARANTEES: tuple[ProcessingGuarantee, ...] = ("exactly-once", "at-least-once")
STATE_LOCK_FILE = "instance.lock"
RESTORE_READERS = 4  # partitions of one assignment restored at once


def _state_dir_busy(state_dir: Path, holder: Mapping[str, Any]) -> StartupError:
    instance = f", instance {holder['instance_id']}" if holder.get("instance_id") else ""
    return StartupError(
        f"another clubhouse instance (pid {holder.get('pid', '?')}{instance}) is using the "
        f"state dir {state_dir}; two would share one instance id, transactional id and state "
        "files and fence each other: give each instance its own --state-dir"
    )


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the service needs; the CLI builds one from flags and environment."""

    kafka: KafkaSettings
    registry: RegistrySettings
    app: App | None = None  # None: the built-in agent platform, with ``agent_factory``
    catalog: MessageCatalog = field(default_factory=MessageCatalog)  # models beyond the app's
    topic_prefix: str = "clubhouse"
    # Other apps' served topic prefixes, by the prefix the code names them with.
    peers: Mapping[str, str] = field(default_factory=dict)
    state_dir: Path = Path(".clubhouse/state")  # local copies of owned partitions' state
    processing_guarantee: ProcessingGuarantee = "exactly-once"
    instance_id: str | None = None  # default: the one kept in state_dir (see instance_id_for)
    agent_factory: AgentFactory = builtin_agent_factory
    group_id: str | None = None  # default: "{topic_prefix}-service"
    partitions: int = 3
    replication_factor: int = -1  # -1: the broker's default, for every topic created
    dedupe_window: DedupeWindow = field(default_factory=DedupeWindow)
    transaction_timeout_ms: int = 10_000  # how long an abandoned transaction blocks readers
    restore_timeout_s: float = 600.0
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    registry_wait_s: float = 0.0
    register_workers: int = 8
    batch_size: int = 200
    # Batches polled within this many ms are committed in one transaction (0: each batch).
    commit_interval_ms: int = 0
    publish_timeout_s: float = 30.0  # one wait for a batch's acknowledgements
    shutdown_timeout_s: float = 30.0  # how long close() may flush what is still queued
    stall_after_s: float = 60.0  # /readyz turns not-ready when records wait this long
    handler_timeout_s: float = 30.0  # a handler past it is cancelled or given up
    max_abandoned_handlers: int = 4  # sync handlers given up before the instance stops

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


def _restore_reader(settings: KafkaSettings) -> KafkaConsumer:
    return KafkaConsumer(settings, partition_eof=True)


def _transactional(
    settings: KafkaSettings, transactional_id: str, timeout_ms: int
) -> TransactionalProducer:
    return TransactionalProducer(
        settings, transactional_id=transactional_id, transaction_timeout_ms=timeout_ms
    )


@dataclass(frozen=True)
class ServiceParts:
    """How the service builds the parts that touch the outside world; replace any of them
    to embed the service or to test it."""

    admin: Callable[[KafkaSettings], KafkaAdmin] = KafkaAdmin
    producer: Callable[[KafkaSettings], KafkaProducer] = KafkaProducer
    consumer: Callable[[KafkaSettings, str], KafkaConsumer] = _consumer
    restore_reader: Callable[[KafkaSettings], KafkaConsumer] = _restore_reader
    transactional: Callable[[KafkaSettings, str, int], TransactionalProducer] = _transactional
    store: Callable[[Path, StateCodec | None], PartitionStore] = PartitionStore


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
        self._dispatcher = Dispatcher(self.app, handler_timeout_s=config.handler_timeout_s)
        self.metrics = ServiceMetrics()
        self.health = Health(stall_after_s=config.stall_after_s)
        self._loop: ServiceLoop | None = None
        self._committer: BatchCommitter | None = None
        self._feed: FeedLoop | None = None
        self._feed_consumer: KafkaConsumer | None = None
        self._feed_committer: BatchCommitter | None = None
        self._consumer: KafkaConsumer | None = None
        self._readers: list[KafkaConsumer] = []
        self._partitions: OwnedPartitions | None = None
        self._http: ObservabilityServer | None = None
        self.registration: RegistrationReport | None = None
        self.instance_id = ""
        self._state_lock: DirLock | None = None

    def start(self) -> RegistrationReport:
        """Register schemas, load ids, create topics, open the clients.

        A failure closes whatever was opened, the state dir's lock included.
        """
        try:
            return self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> RegistrationReport:
        cfg = self.config
        # First of all: a second instance on this state dir must not touch anything.
        self._state_lock = DirLock(cfg.state_dir, STATE_LOCK_FILE, _state_dir_busy).acquire()
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
        commands = topic_for(cfg.topic_prefix, Command)
        changelog = changelog_topic(cfg.topic_prefix)
        prefixes = self.app.prefixes(cfg.topic_prefix, cfg.peers)
        feeds = self.app.feed_topics(prefixes)
        # The topics followed from other apps too: a service started before the app it
        # follows still subscribes to something, and that app finds its topic made.
        topics = [
            TopicSpec(t, partitions=cfg.partitions, replication_factor=cfg.replication_factor)
            for t in dict.fromkeys([*all_topics(cfg.topic_prefix), *feeds])
        ]
        # State is partitioned like the commands: partition p of the changelog holds the
        # keys of partition p of the commands topic.
        topics.append(TopicSpec(changelog, partitions=cfg.partitions,
                                replication_factor=cfg.replication_factor,
                                config={"cleanup.policy": "compact"}))  # fmt: skip

        def ensure_topics() -> None:
            admin.ensure_topics(topics)

        ensure_topics()
        counts = admin.list_topics()
        if counts.get(commands) != counts.get(changelog):
            raise StartupError(
                f"topic {commands!r} has {counts.get(commands)} partitions and {changelog!r} "
                f"has {counts.get(changelog)}; state is kept per commands partition, so they "
                "must be equal (recreate the changelog with as many partitions)"
            )
        self.instance_id = instance_id_for(cfg.state_dir, cfg.instance_id)
        self._state_lock.record({"instance_id": self.instance_id})
        # The instance id in the group member's client id: who owns a partition can be told.
        member = replace(cfg.kafka, client_id=f"{cfg.kafka.client_id}-{self.instance_id}")
        self._consumer = self._parts.consumer(member, cfg.consumer_group)
        # A reader per partition restored at once, at most RESTORE_READERS.
        readers = max(1, min(RESTORE_READERS, counts.get(commands) or cfg.partitions))
        self._readers = [self._parts.restore_reader(cfg.kafka) for _ in range(readers)]
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
        self._committer = self._make_committer(guard, changelog)
        self._committer.start(cfg.publish_timeout_s)
        state_model = self.app.state_model
        codec = None if state_model is None else AvroStateCodec(serde, state_model)
        self._partitions = self._owned_partitions(commands, changelog, codec)
        placer = KeyPartitioner(counts.get(commands) or cfg.partitions, cfg.kafka.partitioner)
        processor = CommandProcessor(
            serde, self._dispatcher, cfg.topic_prefix, records=records,
            window=cfg.dedupe_window, max_entry_bytes=limits.limit(changelog) - 2048,
            fit=guard.fit, adopt=LateModels(registry, serde, cfg.topic_prefix).adopt,
            partition_of=placer.partition, served_prefix=prefixes.of, state_codec=codec,
        )  # fmt: skip
        worker = BatchWorker(
            processor.process, processor.timed_out,
            # A little past the limit: an async handler is cancelled at the limit itself,
            # which leaves no thread behind; only a blocked one is given up.
            timeout_s=cfg.handler_timeout_s + min(1.0, cfg.handler_timeout_s / 10),
            max_abandoned=cfg.max_abandoned_handlers,
            on_abandoned=self.metrics.abandoned_handlers.set,
        )  # fmt: skip
        self._loop = ServiceLoop(
            consumer=self._consumer,
            processor=processor,
            partitions=self._partitions,
            committer=self._committer,
            commands_topic=commands,
            changelog_topic=changelog,
            metrics=self.metrics,
            health=self.health,
            ensure_topics=ensure_topics,
            batch_size=cfg.batch_size,
            worker=worker,
            commit_interval_s=cfg.commit_interval_ms / 1000,
        )
        if feeds:
            self._feed = self._make_feed(feeds, guard, changelog=changelog, member=member,
                                         serde=serde, prefixes=prefixes)  # fmt: skip
        if cfg.metrics_port is not None:
            prefix = f"{cfg.kafka.client_id}-"

            def owners() -> dict[int, str]:
                found = admin.partition_owners(cfg.consumer_group, commands)
                return {p: c.removeprefix(prefix) for p, c in found.items()}

            endpoint = StateEndpoint(self._partitions, placer.partition, self.instance_id, owners)
            self._http = ObservabilityServer(
                self.metrics, self.health, cfg.metrics_host, cfg.metrics_port,
                state_lookup=endpoint.lookup,
            )  # fmt: skip
            self._http.start()
        self.health.detail.update({
            "topic_prefix": cfg.topic_prefix, "schemas": report.registered_count,
            "instance_id": self.instance_id, "processing_guarantee": cfg.processing_guarantee,
        })  # fmt: skip
        log.info("service ready to consume", extra={
            "instance_id": self.instance_id, "group_id": cfg.consumer_group,
            "processing_guarantee": cfg.processing_guarantee, "state_dir": str(cfg.state_dir),
        })  # fmt: skip
        return report

    def _make_committer(self, guard: PublishGuard, changelog: str) -> BatchCommitter:
        cfg = self.config
        assert self._consumer is not None
        if cfg.processing_guarantee == "at-least-once":
            return AtLeastOnceCommitter(
                self._parts.producer(cfg.kafka), self._consumer, guard,
                changelog_topic=changelog, timeout_s=cfg.publish_timeout_s,
            )  # fmt: skip
        producer = self._parts.transactional(
            cfg.kafka, transactional_id(cfg.consumer_group, self.instance_id),
            cfg.transaction_timeout_ms,
        )  # fmt: skip
        return TransactionalCommitter(
            producer, self._consumer, guard, changelog_topic=changelog,
            metrics=self.metrics, timeout_s=cfg.publish_timeout_s,
        )  # fmt: skip

    def _make_feed(
        self, topics: list[str], guard: PublishGuard, *, changelog: str,
        member: KafkaSettings, serde: MessageSerde, prefixes: Prefixes,
    ) -> FeedLoop:  # fmt: skip
        """The loop that forwards what event and response handlers follow, exactly once: in
        a group of its own, with a transactional id of its own, beside the service loop."""
        cfg = self.config
        group = f"{cfg.consumer_group}-feeds"
        self._feed_consumer = consumer = self._parts.consumer(member, group)
        if cfg.processing_guarantee == "at-least-once":
            committer: BatchCommitter = AtLeastOnceCommitter(
                self._parts.producer(cfg.kafka), consumer, guard,
                changelog_topic=changelog, timeout_s=cfg.publish_timeout_s,
            )  # fmt: skip
        else:
            producer = self._parts.transactional(
                cfg.kafka, transactional_id(group, self.instance_id), cfg.transaction_timeout_ms
            )
            committer = TransactionalCommitter(
                producer, consumer, guard, changelog_topic=changelog,
                metrics=self.metrics, timeout_s=cfg.publish_timeout_s,
            )  # fmt: skip
        self._feed_committer = committer
        committer.start(cfg.publish_timeout_s)
        router = FeedRouter(
            serde, self.app, prefixes,
            count=lambda topic, outcome: self.metrics.feed_records.labels(topic, outcome).inc(),
        )  # fmt: skip
        return FeedLoop(consumer=consumer, router=router, committer=committer, topics=topics,
                        batch_size=cfg.batch_size)  # fmt: skip

    def _owned_partitions(
        self, commands: str, changelog: str, codec: StateCodec | None
    ) -> OwnedPartitions:
        assert self._readers
        metrics = self.metrics

        def progress(partition: int, lag: int | None) -> None:
            self.health.restoring(True)  # also a heartbeat: a long restore is not a hang
            if lag is not None:
                metrics.restore_lag.labels(str(partition)).set(lag)

        def restored(result: Restored) -> None:
            metrics.restored_records.inc(result.records)
            metrics.restore_seconds.observe(result.seconds)
            metrics.restore_lag.labels(str(result.partition)).set(0)

        def restorer(reader: KafkaConsumer) -> ChangelogRestorer:
            def estimate_end(partition: int) -> int | None:
                try:
                    return next(o.offset for o in reader.end_offsets(changelog, 10.0)
                                if o.partition == partition)  # fmt: skip
                except (KafkaClientError, StopIteration):
                    return None

            return ChangelogRestorer(
                reader.read_to_end, changelog, timeout_s=self.config.restore_timeout_s,
                estimate_end=estimate_end, on_progress=progress,
                on_skipped=lambda reason: metrics.changelog_skipped.labels(reason).inc(),
            )  # fmt: skip

        first, *more = [restorer(r) for r in self._readers]
        return OwnedPartitions(
            state_dir=self.config.state_dir,
            commands_topic=commands,
            changelog_topic=changelog,
            restorer=first,
            more_restorers=more,
            open_store=lambda path: self._parts.store(path, codec),
            on_restoring=self.health.restoring,
            on_restored=restored,
            on_owned=metrics.owned_partitions.set,
        )

    def run(self, stop: threading.Event) -> None:
        """Serve until ``stop`` is set, then shut down cleanly."""
        if self._loop is None:
            raise StartupError("start() must succeed before run()")
        feed = self._start_feed(stop)
        try:
            self._loop.run(stop)
            if feed is not None:
                feed.join()
                if feed.error is not None:
                    raise feed.error
        finally:
            if feed is not None:
                stop.set()
                feed.join()
            self.close()

    def _start_feed(self, stop: threading.Event) -> _FeedThread | None:
        if self._feed is None:
            return None
        thread = _FeedThread(self._feed, stop, self.health)
        thread.start()
        return thread

    @property
    def metrics_port(self) -> int | None:
        """The port of /metrics, /healthz and /readyz once started; None when not served."""
        return None if self._http is None else self._http.port

    def close(self) -> None:
        """Release everything; safe to call more than once."""
        if self._consumer is not None:
            self._consumer.close()  # leaves the group: partitions move on at once
            self._consumer = None
        if self._committer is not None:
            self._committer.close(self.config.shutdown_timeout_s)
            self._committer = None
        if self._feed_consumer is not None:
            self._feed_consumer.close()
            self._feed_consumer = None
        if self._feed_committer is not None:
            self._feed_committer.close(self.config.shutdown_timeout_s)
            self._feed_committer = None
        for reader in self._readers:
            reader.close()
        self._readers = []
        if self._partitions is not None:
            self._partitions.close()
            self._partitions = None
        self._dispatcher.close()
        if self._http is not None:
            self._http.stop()
            self._http = None
        if self._owns_registry and isinstance(self._registry, ConfluentSchemaRegistry):
            self._registry.close()
        if self._state_lock is not None:
            self._state_lock.release()
            self._state_lock = None
        log.info("service stopped")


class _FeedThread(threading.Thread):
    """Runs the feed loop beside the service loop. If it fails, liveness turns red and the
    whole instance stops, so that its supervisor restarts it, followed topics and all."""

    def __init__(self, feed: FeedLoop, stop: threading.Event, health: Health) -> None:
        super().__init__(name="clubhouse-feeds", daemon=True)
        self._feed = feed
        self._stopping = stop
        self._health = health
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._feed.run(self._stopping)
        except BaseException as exc:
            self.error = exc
            self._health.fail(f"following topics failed: {exc}")
            log.critical("the loop following topics for event and response handlers failed; "
                         "this instance stops", extra={"error": str(exc)})  # fmt: skip
            self._stopping.set()
