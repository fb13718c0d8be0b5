"""Compare one candidate schema with earlier versions at one compatibility level.

The verdict comes from ``clubhouse.avro.compatibility.check``, the function the embedded registry
runs on every register and compatibility test, so an offline check and the registry cannot
disagree. The reasons come from the same module's ``check_pair`` and are phrased as
``Model.field.path: rule``, e.g. ``ProcessMessageCommand.priority: reader field missing
default value``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import avro.schema

from clubhouse.avro import compatibility
from clubhouse.avro.compatibility import CompatibilityLevel as LevelRules
from clubhouse.services.kafka_protocol import CompatibilityLevel

Direction = Literal["backward", "forward"]
"""backward: the new schema reads data written with an earlier one; forward: the reverse."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One place where a reader cannot read a writer's data."""

    model: str
    path: str  # dotted field path in the reader schema; "" for the record itself
    rule: str  # the Avro resolution rule broken, e.g. "reader field missing default value"
    detail: str  # the checker's own words
    version: int  # the earlier version compared with
    direction: Direction

    @property
    def location(self) -> str:
        """``Model.field.path``, or just ``Model`` for a problem with the record itself."""
        return f"{self.model}.{self.path}" if self.path else self.model

    def __str__(self) -> str:
        return f"{self.location}: {self.rule}"

    def explain(self) -> str:
        """The reason with the direction, the version and the checker's detail."""
        who = (
            f"new schema cannot read v{self.version} data"
            if self.direction == "backward"
            else f"v{self.version} cannot read data written with the new schema"
        )
        leaf = self.path.rsplit(".", 1)[-1]
        detail = "" if self.detail in ("", leaf) else f"; {self.detail}"
        return f"{self} ({who}{detail})"


@dataclass(frozen=True, slots=True)
class Comparison:
    """The verdict on one candidate at one level, with its reasons."""

    level: CompatibilityLevel
    compared: tuple[int, ...]  # the versions the level required comparing with
    reasons: tuple[Reason, ...]
    messages: tuple[str, ...]  # the registry checker's messages, word for word

    @property
    def compatible(self) -> bool:
        """Whether the comparison found no incompatibility."""
        return not self.messages


def compare(
    model: str,
    candidate: avro.schema.Schema,
    previous: Sequence[tuple[int, avro.schema.Schema]],
    level: CompatibilityLevel,
) -> Comparison:
    """Whether ``candidate`` may follow ``previous`` (live versions, oldest first) at ``level``."""
    rules = LevelRules(level)
    messages = tuple(compatibility.check(rules, candidate, previous))
    if rules is LevelRules.NONE or not previous:
        return Comparison(level, (), (), messages)
    targets = list(previous) if rules.transitive else list(previous[-1:])
    reasons: list[Reason] = []
    if messages:
        # The same level semantics as compatibility.check, pair by pair, to learn where and why.
        for version, old in targets:
            if rules.checks_backward:
                reasons += _reasons(model, candidate, old, version, "backward")
            if rules.checks_forward:
                reasons += _reasons(model, old, candidate, version, "forward")
        if not reasons:  # never expected; keep the verdict explainable all the same
            reasons = [Reason(model, "", "incompatible", m, targets[-1][0], "backward")
                       for m in messages]  # fmt: skip
    return Comparison(level, tuple(v for v, _ in targets), tuple(reasons), messages)


def _reasons(
    model: str,
    reader: avro.schema.Schema,
    writer: avro.schema.Schema,
    version: int,
    direction: Direction,
) -> list[Reason]:
    return [
        Reason(
            model=model,
            path=problem.path,
            rule=problem.kind.name.replace("_", " "),
            detail=problem.detail,
            version=version,
            direction=direction,
        )
        for problem in compatibility.check_pair(reader, writer)
    ]
