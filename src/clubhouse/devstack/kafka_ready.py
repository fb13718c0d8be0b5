"""When a fresh Kafka cluster is ready for clients: every broker listed, producer ids handed out.

Measured on Kafka 4.1: a node whose metadata is complete still answers an idempotent
producer's first InitProducerId with COORDINATOR_LOAD_IN_PROGRESS for about a second,
while it fetches its first block of ids from the controller. librdkafka retries, but a
producer with a short ``message.timeout.ms`` times out meanwhile, so the stack waits here.
"""

from __future__ import annotations

import json
import time
from typing import Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient

_QUIET: dict[str, Any] = {"log_level": 0}  # the probes' connection errors are expected


def broker_ids(bootstrap: str, timeout: float = 1.0) -> set[int]:
    """The broker ids the cluster metadata lists now (empty when nobody answers)."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **_QUIET})
    try:
        return set(admin.list_topics(timeout=timeout).brokers)
    except KafkaException:
        return set()


def producer_id_assigned(bootstrap: str, timeout: float) -> bool:
    """Whether an idempotent producer bootstrapped at ``bootstrap`` gets an id in time."""
    state: dict[str, str] = {}

    def on_stats(text: str) -> None:
        state["idemp"] = json.loads(text).get("eos", {}).get("idemp_state", "")

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "statistics.interval.ms": 100,
            "stats_cb": on_stats,
            **_QUIET,
        }
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        producer.poll(0.1)
        if state.get("idemp") == "Assigned":
            return True
    return False
