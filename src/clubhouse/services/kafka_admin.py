"""``KafkaAdmin``: make sure topics exist (creating the missing ones), list them, and read
the size limit each one enforces."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # re-exported, no __all__
    AdminClient,
    ConfigResource,
    ResourceType,
)
from confluent_kafka.cimpl import NewTopic

from clubhouse.retry import RetryPolicy
from clubhouse.services.kafka_errors import KafkaConfigError, TopicAdminError
from clubhouse.services.kafka_events import ClientErrorMonitor, LibrdkafkaLog
from clubhouse.services.kafka_settings import KafkaSettings

log = logging.getLogger(__name__)

AdminFactory = Callable[[dict[str, Any]], Any]  # confluent_kafka.admin.AdminClient or a stand-in

BROKER_DEFAULT = -1  # "use the broker's default" for partitions and replication factor


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic to create if it is missing. An existing topic is never altered."""

    name: str
    partitions: int = 1
    replication_factor: int = BROKER_DEFAULT
    config: Mapping[str, str] = field(default_factory=dict)


class KafkaAdmin:
    """Creates and lists topics. The client is kept for the wrapper's lifetime, because
    librdkafka fails the futures of an AdminClient that is garbage-collected mid-request."""

    def __init__(
        self, settings: KafkaSettings, *, admin_factory: AdminFactory = AdminClient
    ) -> None:
        self._errors = ClientErrorMonitor(f"admin {settings.client_id!r}", log)
        conf: dict[str, Any] = {
            **settings.admin_config(),
            "error_cb": self._errors,
            "logger": LibrdkafkaLog(),
        }
        try:
            self._admin = admin_factory(conf)
        except KafkaException as exc:
            raise KafkaConfigError(f"invalid admin configuration: {exc.args[0].str()}") from exc

    def list_topics(self, timeout: float = 10.0) -> dict[str, int]:
        """Every non-internal topic with its partition count."""
        try:
            metadata = self._admin.list_topics(timeout=timeout)
        except KafkaException as exc:
            err = exc.args[0]
            raise TopicAdminError(None, err.str(), err.name()) from exc
        return {
            name: len(topic.partitions)
            for name, topic in metadata.topics.items()
            if not name.startswith("__") and topic.error is None
        }

    def partition_owners(self, group: str, topic: str, timeout: float = 5.0) -> dict[int, str]:
        """Which member of ``group`` (by its client id) owns each partition of ``topic`` now;
        {} when the broker cannot say (no such group, or no describe support)."""
        try:
            future = self._admin.describe_consumer_groups([group], request_timeout=timeout)[group]
            description = future.result(timeout)
        except (KafkaException, TimeoutError, ValueError) as exc:
            log.debug("consumer group not described", extra={"group": group, "error": str(exc)})
            return {}
        owners: dict[int, str] = {}
        for member in description.members:
            assignment = getattr(member, "assignment", None)
            for tp in getattr(assignment, "topic_partitions", None) or []:
                if tp.topic == topic:
                    owners[tp.partition] = str(member.client_id)
        return owners

    def ensure_topics(
        self, topics: Iterable[TopicSpec | str], *, timeout: float = 30.0
    ) -> list[str]:
        """Create the topics that do not exist yet; returns the names this call created.

        A topic created concurrently by someone else counts as existing. Returns only once
        every topic shows up in the cluster metadata, so producing to it right away works.
        """
        specs = [TopicSpec(t) if isinstance(t, str) else t for t in topics]
        deadline = time.monotonic() + timeout
        existing = self.list_topics(timeout)
        missing = [s for s in specs if s.name not in existing]
        created: list[str] = []
        if missing:
            futures = self._admin.create_topics(
                [
                    NewTopic(
                        s.name,
                        num_partitions=s.partitions,
                        replication_factor=s.replication_factor,
                        config=dict(s.config),
                    )
                    for s in missing
                ],
                operation_timeout=timeout,
                request_timeout=timeout,
            )
            for name, future in futures.items():
                if self._created(name, future, max(0.1, deadline - time.monotonic())):
                    created.append(name)
            log.info("topics created", extra={"topics": created})
        self._wait_visible([s.name for s in specs], deadline)
        return created

    def max_message_bytes(self, topics: Iterable[str], timeout: float = 10.0) -> dict[str, int]:
        """Each topic's effective ``max.message.bytes`` (its own, or the broker's default).

        A topic whose configuration cannot be read (a broker without DescribeConfigs, or no
        permission to describe) is left out: its limit is then found when producing.
        """
        resources = [ConfigResource(ResourceType.TOPIC, t) for t in topics]
        if not resources:
            return {}
        try:
            futures = self._admin.describe_configs(resources, request_timeout=timeout)
        except KafkaException as exc:
            log.info("topic limits unavailable", extra={"error": exc.args[0].str()})
            return {}
        limits: dict[str, int] = {}
        for resource, future in futures.items():
            try:
                entry = future.result(timeout=timeout).get("max.message.bytes")
            except (KafkaException, TimeoutError) as exc:
                log.info("topic limit unavailable", extra={"topic": resource.name,
                                                           "error": str(exc)})  # fmt: skip
                continue
            if entry is not None and str(entry.value).isdigit():
                limits[resource.name] = int(entry.value)
        return limits

    def _created(self, name: str, future: Any, timeout: float) -> bool:
        try:
            future.result(timeout=timeout)
        except KafkaException as exc:
            err = exc.args[0]
            if err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                return False
            raise TopicAdminError(name, err.str(), err.name()) from exc
        except TimeoutError as exc:
            raise TopicAdminError(
                name, f"no answer to the create request within {timeout:.1f} s"
            ) from exc
        return True

    def _wait_visible(self, names: list[str], deadline: float) -> None:
        policy = RetryPolicy(first_s=0.05, max_s=0.05, deadline_s=deadline - time.monotonic())
        backoff = policy.backoff()
        while True:
            known = self.list_topics(max(0.5, deadline - time.monotonic()))
            absent = [n for n in names if n not in known]
            if not absent:
                return
            if not backoff.wait():
                raise TopicAdminError(
                    absent[0], "created, but it did not appear in the cluster metadata in time"
                )
