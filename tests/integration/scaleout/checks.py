"""Checks every scale-out scenario makes, and the state its fleet ends with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from clubhouse.contracts import Command, ErrorResponse
from clubhouse.runtime.changelog import changelog_topic
from clubhouse.runtime.restore import changelog_state
from clubhouse.services.kafka import KafkaConsumer, KafkaSettings

from .harness import Fleet
from .traffic import Answers

PropertyRecorder = Callable[[str, object], None]

# Fields that record when, not what: they differ between any two runs of the same commands.
UNSTABLE_FIELDS = frozenset({"created_at", "updated_at", "timestamp", "last_active_at"})


@dataclass(frozen=True)
class Outcome:
    """What the responses topic says about a set of commands."""

    commands: int
    unanswered: int
    multiple_ids: int  # commands answered by more than one distinct response message_id
    duplicate_records: int  # response records beyond the first of each message_id
    errors: Mapping[str, int]  # ErrorResponse count by error_type

    def summary(self) -> str:
        return (
            f"{self.commands} commands: {self.unanswered} unanswered, "
            f"{self.multiple_ids} with more than one response id, "
            f"{self.duplicate_records} duplicate response records, errors {dict(self.errors)}"
        )


def outcome(commands: Sequence[Command], answers: Mapping[UUID, Answers]) -> Outcome:
    """Tally ``answers`` (from ResponseCollector.answers) for ``commands``."""
    errors: Counter[str] = Counter()
    unanswered = multiple = duplicates = 0
    for command in commands:
        got = answers.get(command.message_id)
        if got is None:
            unanswered += 1
            continue
        multiple += len(got.message_ids) > 1
        duplicates += got.records - len(got.message_ids)
        first_by_id = {r.message_id: r for r in got.responses}
        errors.update(r.error_type for r in first_by_id.values() if isinstance(r, ErrorResponse))
    return Outcome(len(commands), unanswered, multiple, duplicates, dict(errors))


def check_outcome(
    result: Outcome, *, broker_kind: str, record: PropertyRecorder, fleet: Fleet
) -> None:
    """Every command answered, once, without an error; raw duplicates 0 on Kafka.

    On Tansu, records of aborted transactions stay visible to read_committed readers (a
    broker bug, measured), so there the duplicate count is reported, not asserted.
    """
    record("outcome", result.summary())
    record("duplicate_records", result.duplicate_records)
    print(f"[{broker_kind}] {result.summary()}")
    problems = []
    if result.unanswered:
        problems.append(f"{result.unanswered} commands were never answered")
    if result.multiple_ids:
        problems.append(f"{result.multiple_ids} commands got more than one response message_id")
    if result.errors.get("agent_not_found"):
        problems.append(f"{result.errors['agent_not_found']} agent_not_found errors")
    if result.errors:
        problems.append(f"error responses to commands that should succeed: {dict(result.errors)}")
    if broker_kind == "kafka" and result.duplicate_records:
        problems.append(f"{result.duplicate_records} duplicate response records on Kafka")
    if problems:
        fleet.fail(f"[{broker_kind}] " + "; ".join(problems) + f" ({result.summary()})")


def final_state(fleet: Fleet) -> dict[str, dict[str, Any]]:
    """Every key's state as the changelog holds it, read the way an owner restores it."""
    reader = KafkaConsumer(KafkaSettings(fleet.bootstrap, dev_tuning=True), partition_eof=True)
    try:
        return changelog_state(reader.read_to_end, changelog_topic(fleet.prefix), fleet.partitions)
    finally:
        reader.close()


def stable(state: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` without the fields that depend on when it was written."""
    return {
        k: stable(v) if isinstance(v, Mapping) else v
        for k, v in state.items()
        if k not in UNSTABLE_FIELDS
    }


def check_state(fleet: Fleet, expected: Mapping[str, Mapping[str, Any]]) -> None:
    """The fleet's final state equals ``expected`` (a single-instance run) on stable fields."""
    got = {k: stable(v) for k, v in final_state(fleet).items()}
    want = {k: stable(v) for k, v in expected.items()}
    if got != want:
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        differ = sorted(k for k in set(got) & set(want) if got[k] != want[k])
        example = f"; {differ[0]}: {got[differ[0]]} != {want[differ[0]]}" if differ else ""
        fleet.fail(
            f"final state differs from the single-instance run: missing keys {missing[:5]}, "
            f"extra keys {extra[:5]}, {len(differ)} keys differ{example}"
        )
