"""ServiceLoop with small fakes of the Kafka protocols: permanent failures never block."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from clubhouse.contracts import CreateAgentCommand, ErrorResponse, ProcessMessageCommand
from clubhouse.messaging.outbound import Outbound, RecordBuilder
from clubhouse.messaging.publish_guard import PublishGuard, SizeLimits
from clubhouse.messaging.service_loop import ServiceLoop
from clubhouse.observability import Health, ServiceMetrics
from clubhouse.services.kafka_errors import BatchDeliveryError, DeliveryError
from clubhouse.services.kafka_protocol import ConsumedRecord
from tests.unit.messaging.test_processor import Harness


class Consumer:
    """Hands out the queued records once, then stops the loop when all are committed."""

    def __init__(self, records: list[ConsumedRecord], stop: threading.Event) -> None:
        self.records = records
        self.committed: list[ConsumedRecord] = []
        self.stop = stop

    def subscribe(self, topics: Sequence[str]) -> None:
        pass

    def poll_batch(self, max_records: int, timeout: float) -> list[ConsumedRecord]:
        batch, self.records = self.records[:max_records], self.records[max_records:]
        return batch

    def commit_records(self, records: Iterable[ConsumedRecord]) -> None:
        self.committed.extend(records)
        if not self.records:
            self.stop.set()


Refuse = Callable[[Outbound], str | None]  # -> librdkafka error name, or None to accept


class Producer:
    def __init__(self, refuse: Refuse) -> None:
        self.refuse = refuse
        self.acked: list[Outbound] = []
        self.attempts = 0
        self.rebuilt = 0

    def produce_batch(self, records: Iterable[Any], *, timeout: float = 0) -> list[Any]:
        self.attempts += 1
        batch = list(records)
        failed = {}
        for i, record in enumerate(batch):
            code = self.refuse(record)
            if code is None:
                self.acked.append(record)
            else:
                failed[i] = DeliveryError(record.topic, "refused", code=code)
        if failed:
            raise BatchDeliveryError(failed, len(batch))
        return []

    def flush(self, timeout: float = 0) -> None:
        pass

    def rebuild(self, reason: str) -> None:
        self.rebuilt += 1


def run_loop(
    h: Harness, commands: list[Any], refuse: Refuse, *, health: Health | None = None
) -> tuple[Consumer, Producer, ServiceMetrics]:
    stop = threading.Event()
    records = [
        ConsumedRecord("t-commands", 0, i, b"agent", h.serde.serialize(c), (), 0)
        for i, c in enumerate(commands)
    ]
    consumer = Consumer(records, stop)
    producer = Producer(refuse)
    metrics = ServiceMetrics()
    guard = PublishGuard(
        SizeLimits(),
        responses_topic="t-responses",
        dead_letter_topic="t-dead-letters",
        error_record=RecordBuilder(h.serde, "t").error_record,
        count_failure=lambda reason: metrics.permanent_failures.labels(reason).inc(),
    )
    loop = ServiceLoop(
        consumer=consumer,
        producer=producer,  # type: ignore[arg-type]
        processor=h.processor,
        guard=guard,
        commands_topic="t-commands",
        metrics=metrics,
        health=health or Health(),
        batch_size=10,
    )
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    thread.start()
    thread.join(20)
    stop.set()
    thread.join(5)
    assert not thread.is_alive(), "the loop did not finish"
    return consumer, producer, metrics


def failures(metrics: ServiceMetrics, reason: str) -> float:
    return (
        metrics.registry.get_sample_value(
            "clubhouse_permanent_publish_failures_total", {"reason": reason}
        )
        or 0.0
    )


def test_a_response_refused_for_good_is_answered_with_an_error_and_committed() -> None:
    h = Harness()
    create = CreateAgentCommand(agent_id="agent")

    def refuse(record: Outbound) -> str | None:
        first = dict(record.headers).get("message_type") == b"response.agent_created"
        return "MSG_SIZE_TOO_LARGE" if first else None

    consumer, producer, metrics = run_loop(h, [create], refuse)
    assert len(consumer.committed) == 1
    replies = [h.serde.deserialize(r.value) for r in producer.acked if r.topic == "t-responses"]
    assert [type(r) for r in replies] == [ErrorResponse]
    assert replies[0].error_type == "message_too_large"  # type: ignore[attr-defined]
    assert replies[0].in_response_to == create.message_id  # type: ignore[attr-defined]
    assert producer.rebuilt == 0  # nothing transient: no rebuild, no backoff
    assert failures(metrics, "message_too_large") == 1


def test_when_every_replacement_is_refused_too_the_loop_still_commits() -> None:
    h = Harness()
    commands = [
        CreateAgentCommand(agent_id="agent"),
        ProcessMessageCommand(agent_id="agent", content="hi"),
    ]
    consumer, producer, metrics = run_loop(h, commands, lambda r: "TOPIC_AUTHORIZATION_FAILED")
    assert len(consumer.committed) == 2
    assert producer.acked == []
    # response -> error response -> dead letter -> dropped; each step counted.
    assert failures(metrics, "not_authorized") >= 3


def test_a_transient_failure_is_retried_not_replaced() -> None:
    h = Harness()
    state = {"left": 2}

    def refuse(record: Outbound) -> str | None:
        if state["left"] and record.topic == "t-responses":
            state["left"] -= 1
            return "NOT_LEADER_FOR_PARTITION"
        return None

    consumer, producer, metrics = run_loop(h, [CreateAgentCommand(agent_id="agent")], refuse)
    assert len(consumer.committed) == 1
    replies = [h.serde.deserialize(r.value) for r in producer.acked if r.topic == "t-responses"]
    assert [r.message_type for r in replies] == ["response.agent_created"]
    assert producer.rebuilt == 2
    assert failures(metrics, "message_too_large") == 0


def test_readiness_turns_off_while_records_wait_past_the_stall_window() -> None:
    now = [0.0]
    health = Health(stall_after_s=30, clock=lambda: now[0])
    health.set_ready(True)
    assert health.ready
    health.working()
    now[0] = 29.0
    assert health.ready
    now[0] = 31.0
    assert not health.ready
    assert health.readiness()["stalled_for_s"] == 31.0
    health.progressed()
    assert health.ready
    assert "stalled_for_s" not in health.readiness()
