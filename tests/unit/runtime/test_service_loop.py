"""ServiceLoop with small fakes of the Kafka protocols: permanent failures never block, a
failed transaction is retried, a fenced one is left to the partitions' owner, and state only
reaches the store with its batch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clubhouse.agents.messages import CreateAgentCommand, ProcessMessageCommand
from clubhouse.contracts import ErrorResponse
from clubhouse.messaging.entries import Entry, decode_entry
from clubhouse.messaging.outbound import Outbound, RecordBuilder
from clubhouse.messaging.publish_guard import PublishGuard, SizeLimits
from clubhouse.observability import Health, ServiceMetrics
from clubhouse.retry import RetryPolicy
from clubhouse.runtime.committers import (
    AtLeastOnceCommitter,
    BatchCommitter,
    TransactionalCommitter,
)
from clubhouse.runtime.partitions import OwnedPartitions
from clubhouse.runtime.restore import ChangelogRestorer
from clubhouse.runtime.service_loop import ServiceLoop
from clubhouse.services.kafka_errors import (
    FatalKafkaError,
    TransactionAbortableError,
    TransactionFencedError,
)
from clubhouse.services.kafka_protocol import (
    ConsumedRecord,
    TopicOffset,
)
from clubhouse.services.registry_errors import RegistryUnreachableError
from tests.apps.harness import Harness
from tests.fakes.kafka_loop import Consumer, Producer, Refuse, TxnProducer

CHANGELOG = "t-state-changelog"


class Loop:
    def __init__(self, tmp: Path, commands: list[Any], refuse: Refuse, *,
                 eos: Callable[[], Exception | None] | None = None,
                 commit_interval_s: float = 0.0, batch_size: int = 10) -> None:  # fmt: skip
        self.h = Harness()
        self.stop = threading.Event()
        records = [
            ConsumedRecord("t-commands", 0, i, b"agent", self.h.serde.serialize(c))
            for i, c in enumerate(commands)
        ]
        self.consumer = Consumer(records, self.stop)
        self.metrics = ServiceMetrics()
        guard = PublishGuard(
            SizeLimits(),
            responses_topic="t-responses",
            dead_letter_topic="t-dead-letters",
            error_record=RecordBuilder(self.h.serde, "t").error_record,
            count_failure=lambda reason: self.metrics.permanent_failures.labels(reason).inc(),
        )
        self.producer = Producer(refuse)
        self.txn = TxnProducer(refuse, eos or (lambda: None))
        self.txn.stop, self.txn.stop_after = self.stop, len(records)
        committer: BatchCommitter
        if eos is None:
            committer = AtLeastOnceCommitter(
                self.producer, self.consumer, guard,  # type: ignore[arg-type]
                changelog_topic=CHANGELOG, retry=RetryPolicy(first_s=0.01, max_s=0.01),
            )  # fmt: skip
        else:
            committer = TransactionalCommitter(
                self.txn, self.consumer, guard, changelog_topic=CHANGELOG,  # type: ignore[arg-type]
                metrics=self.metrics, retry=RetryPolicy(first_s=0.01, max_s=0.01),
            )  # fmt: skip
        committer.start(1)
        self.partitions = OwnedPartitions(
            state_dir=tmp, commands_topic="t-commands", changelog_topic=CHANGELOG,
            restorer=ChangelogRestorer(lambda start, timeout, on_record: 0, CHANGELOG),
        )  # fmt: skip
        self.loop = ServiceLoop(
            consumer=self.consumer,  # type: ignore[arg-type]
            processor=self.h.processor,
            partitions=self.partitions,
            committer=committer,
            commands_topic="t-commands",
            changelog_topic=CHANGELOG,
            metrics=self.metrics,
            health=Health(),
            batch_size=batch_size,
            retry=RetryPolicy(first_s=0.01, max_s=0.01),
            commit_interval_s=commit_interval_s,
        )

    def run(self) -> None:
        thread = threading.Thread(target=self.loop.run, args=(self.stop,), daemon=True)
        thread.start()
        thread.join(20)
        self.stop.set()
        thread.join(5)
        assert not thread.is_alive(), "the loop did not finish"

    def stored(self, key: str) -> Entry | None:
        state = self.partitions.get(0)
        assert state is not None
        return state.store.get(key)

    def failures(self, reason: str) -> float:
        sample = self.metrics.registry.get_sample_value(
            "clubhouse_permanent_publish_failures_total", {"reason": reason}
        )
        return sample or 0.0

    def transactions(self, outcome: str) -> float:
        sample = self.metrics.registry.get_sample_value(
            "clubhouse_transactions_total", {"outcome": outcome}
        )
        return sample or 0.0


def decode_all(loop: Loop, records: list[Outbound], topic: str) -> list[Any]:
    return [loop.h.serde.deserialize(r.value or b"") for r in records if r.topic == topic]


def test_a_response_refused_for_good_is_answered_with_an_error_and_committed(
    tmp_path: Path,
) -> None:
    create = CreateAgentCommand(agent_id="agent")

    def refuse(record: Outbound) -> str | None:
        first = dict(record.headers).get("message_type") == b"response.agent_created"
        return "MSG_SIZE_TOO_LARGE" if first else None

    loop = Loop(tmp_path, [create], refuse)
    loop.run()
    assert loop.consumer.committed == [TopicOffset("t-commands", 0, 1)]
    replies = decode_all(loop, loop.producer.acked, "t-responses")
    assert [type(r) for r in replies] == [ErrorResponse]
    assert replies[0].error_type == "message_too_large"
    assert replies[0].in_response_to == create.message_id
    assert loop.producer.rebuilt == 0  # nothing transient: no rebuild, no backoff
    assert loop.failures("message_too_large") == 1
    assert loop.stored("agent") is not None  # the agent was created all the same


def test_when_every_replacement_is_refused_too_the_loop_still_commits(tmp_path: Path) -> None:
    commands = [
        CreateAgentCommand(agent_id="agent"),
        ProcessMessageCommand(agent_id="agent", content="hi"),
    ]

    def refuse(record: Outbound) -> str | None:
        return None if record.topic == CHANGELOG else "TOPIC_AUTHORIZATION_FAILED"

    loop = Loop(tmp_path, commands, refuse)
    loop.run()
    assert loop.consumer.committed == [TopicOffset("t-commands", 0, 2)]
    assert [r.topic for r in loop.producer.acked] == [CHANGELOG]
    # response -> error response -> dead letter -> dropped; each step counted.
    assert loop.failures("not_authorized") >= 3


def test_a_transient_failure_is_retried_not_replaced(tmp_path: Path) -> None:
    left = [2]

    def refuse(record: Outbound) -> str | None:
        if left[0] and record.topic == "t-responses":
            left[0] -= 1
            return "NOT_LEADER_FOR_PARTITION"
        return None

    loop = Loop(tmp_path, [CreateAgentCommand(agent_id="agent")], refuse)
    loop.run()
    assert loop.consumer.committed == [TopicOffset("t-commands", 0, 1)]
    replies = decode_all(loop, loop.producer.acked, "t-responses")
    assert [r.message_type for r in replies] == ["response.agent_created"]
    assert loop.producer.rebuilt == 2
    assert loop.failures("message_too_large") == 0


def test_exactly_once_commits_outputs_changelog_and_offsets_in_one_transaction(
    tmp_path: Path,
) -> None:
    create = CreateAgentCommand(agent_id="agent")
    loop = Loop(tmp_path, [create], lambda r: None, eos=lambda: None)
    loop.run()
    assert loop.txn.calls == ["init", "begin", "send_offsets", "commit"]
    assert loop.txn.offsets == [TopicOffset("t-commands", 0, 1)]
    assert loop.consumer.committed == []  # offsets go with the transaction, not the consumer
    topics = sorted({r.topic for r in loop.txn.visible})
    assert topics == sorted([CHANGELOG, "t-events", "t-responses"])
    [change] = [r for r in loop.txn.visible if r.topic == CHANGELOG]
    assert (change.key, change.partition) == (b"agent", 0)
    assert decode_entry(change.value, "test").recent[0].message_id == str(create.message_id)
    stored = loop.stored("agent")
    assert stored is not None and stored.state is not None
    assert loop.transactions("commit") == 1


def test_an_aborted_transaction_is_retried_and_acts_once(tmp_path: Path) -> None:
    failures = [TransactionAbortableError("t", "commit", "broker said no", "X")]
    commands = [CreateAgentCommand(agent_id="agent", personality_type="echo"),
                ProcessMessageCommand(agent_id="agent", content="hi")]  # fmt: skip
    loop = Loop(tmp_path, commands, lambda r: None,
                eos=lambda: failures.pop() if failures else None)  # fmt: skip
    loop.run()
    assert loop.txn.calls == ["init", "begin", "send_offsets", "commit-failed", "abort",
                              "begin", "send_offsets", "commit"]  # fmt: skip
    replies = decode_all(loop, loop.txn.visible, "t-responses")
    assert [r.message_type for r in replies] == ["response.agent_created",
                                                 "response.message_processed"]  # fmt: skip
    assert loop.transactions("abort") == 1


def test_a_fenced_transaction_leaves_the_batch_and_its_state_to_the_new_owner(
    tmp_path: Path,
) -> None:
    failures = [TransactionFencedError("t", "commit", "fenced", "_FENCED")]
    loop = Loop(tmp_path, [CreateAgentCommand(agent_id="agent")], lambda r: None,
                eos=lambda: failures.pop() if failures else None)  # fmt: skip
    loop.run()
    # Fenced: rebuilt, the batch rewound and processed again from the same (empty) state.
    assert loop.txn.calls == ["init", "begin", "send_offsets", "commit-failed", "rebuild",
                              "begin", "send_offsets", "commit"]  # fmt: skip
    assert loop.consumer.seeks == [TopicOffset("t-commands", 0, 0)]
    replies = decode_all(loop, loop.txn.visible, "t-responses")
    assert [r.message_type for r in replies] == ["response.agent_created"]  # not agent_exists
    assert loop.transactions("fenced") == 1


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


def test_readiness_is_off_while_state_is_restored() -> None:
    health = Health()
    health.set_ready(True)
    health.restoring(True)
    assert not health.ready
    assert health.readiness()["restoring"] is True
    health.restoring(False)
    assert health.ready


class FatalConsumer(Consumer):
    """A consumer that librdkafka has declared unusable: every poll raises the fatal error."""

    def poll_batch(self, max_records: int, timeout: float) -> list[ConsumedRecord]:
        self.polls = getattr(self, "polls", 0) + 1
        raise FatalKafkaError("consumer", "static member fenced", "_FENCED")


def test_a_fatal_client_error_ends_the_loop_after_liveness_turns_red(
    tmp_path: Path, caplog: Any
) -> None:
    loop = Loop(tmp_path, [CreateAgentCommand(agent_id="agent")], lambda r: None)
    consumer = FatalConsumer([], loop.stop)
    loop.loop._consumer = consumer  # type: ignore[assignment]
    health = loop.loop._health
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            loop.loop.run(loop.stop)
        except BaseException as exc:
            outcome.append(exc)

    with caplog.at_level("CRITICAL"):
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(10)
    loop.stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert consumer.polls == 1, "a fatal error is not retried"
    assert len(outcome) == 1 and isinstance(outcome[0], FatalKafkaError)
    assert not health.alive()
    assert "static member fenced" in health.readiness()["fatal"]
    assert [r.getMessage() for r in caplog.records if r.levelname == "CRITICAL"] == [
        "fatal Kafka error; this instance stops so that its supervisor can restart it"
    ]


class FlakyRegistryProcessor:
    """The real processor, but its first record finds the schema registry unreachable."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        self.failures = 1

    def process(self, record: ConsumedRecord, state: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise RegistryUnreachableError("cannot reach the schema registry at http://r:1")
        return self.processor.process(record, state)


def test_an_unreachable_registry_makes_the_batch_wait_not_the_service_stop(
    tmp_path: Path,
) -> None:
    create = CreateAgentCommand(agent_id="agent")
    loop = Loop(tmp_path, [create, ProcessMessageCommand(agent_id="agent", content="x")],
                lambda r: None)  # fmt: skip
    flaky = FlakyRegistryProcessor(loop.h.processor)
    loop.loop._processor = flaky  # type: ignore[assignment]
    loop.run()
    assert flaky.failures == 0
    entry = loop.stored("agent")
    assert entry is not None and len(entry.recent) == 2  # both handled once, after the wait


def test_a_commit_interval_commits_the_batches_polled_within_it_in_one_transaction(
    tmp_path: Path,
) -> None:
    commands = [CreateAgentCommand(agent_id="agent", personality_type="echo")]
    commands += [ProcessMessageCommand(agent_id="agent", content=f"m{i}") for i in range(4)]
    loop = Loop(tmp_path, commands, lambda r: None, eos=lambda: None, commit_interval_s=0.5,
                batch_size=2)  # fmt: skip
    loop.run()
    # Three polls of at most 2, one transaction, and one changelog record for the one key.
    assert loop.txn.calls == ["init", "begin", "send_offsets", "commit"]
    assert loop.txn.offsets == [TopicOffset("t-commands", 0, 5)]
    assert len([r for r in loop.txn.visible if r.topic == CHANGELOG]) == 1
    replies = decode_all(loop, loop.txn.visible, "t-responses")
    assert [r.message_type for r in replies] == ["response.agent_created"] + [
        "response.message_processed"] * 4  # fmt: skip
    stored = loop.stored("agent")
    assert stored is not None and len(stored.recent) == 5


class MovingConsumer(Consumer):
    """Partitions move (a rebalance) during the second poll."""

    def __init__(self, records: list[ConsumedRecord], stop: threading.Event) -> None:
        super().__init__(records, stop)
        self.polls = 0
        self.partitions: OwnedPartitions | None = None

    def poll_batch(self, max_records: int, timeout: float) -> list[ConsumedRecord]:
        self.polls += 1
        if self.polls == 2 and self.partitions is not None:
            self.partitions.changes += 1
        return super().poll_batch(max_records, timeout)


def test_work_held_when_partitions_move_is_dropped_and_done_again_once(
    tmp_path: Path,
) -> None:
    commands = [CreateAgentCommand(agent_id="agent", personality_type="echo"),
                ProcessMessageCommand(agent_id="agent", content="hi")]  # fmt: skip
    loop = Loop(tmp_path, commands, lambda r: None, eos=lambda: None, commit_interval_s=0.5,
                batch_size=1)  # fmt: skip
    moving = MovingConsumer(loop.consumer.all, loop.stop)
    moving.partitions = loop.partitions
    loop.loop._consumer = moving  # type: ignore[assignment]
    loop.txn.stop_after = 2
    loop.run()
    assert moving.seeks[0] == TopicOffset("t-commands", 0, 0)  # back to the first held
    assert loop.txn.calls == ["init", "begin", "send_offsets", "commit"]
    replies = decode_all(loop, loop.txn.visible, "t-responses")
    # Created once, not "agent_exists": what was held never reached the store.
    assert [r.message_type for r in replies] == ["response.agent_created",
                                                 "response.message_processed"]  # fmt: skip
