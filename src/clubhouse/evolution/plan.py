"""What registering the local models would do, asked of the registry without writing anything.

Each model ends in one of four outcomes: its subject is new, its schema is already a live
version (unchanged), it would become a new version, or the registry would refuse it as
incompatible. The last two are the registry's own compatibility test, so the plan says
exactly what ``register`` will meet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.kafka_protocol import CompatibilityLevel, SchemaRegistryProtocol

log = logging.getLogger(__name__)

Action = Literal["new subject", "unchanged", "new version", "incompatible"]


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """The outcome for one model.

    ``version`` is the matching version for ``unchanged`` and the current latest version for
    ``new version`` / ``incompatible``; ``messages`` are the registry's reasons for a refusal.
    """

    model: str
    subject: str
    action: Action
    level: CompatibilityLevel
    version: int | None = None
    schema_id: int | None = None
    messages: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for people: the model, the outcome and the subject."""
        where = f"{self.subject}"
        if self.action == "new subject":
            outcome = f"new subject {where} (version 1)"
        elif self.action == "unchanged":
            outcome = f"unchanged, already {where} v{self.version} (id {self.schema_id})"
        elif self.action == "new version":
            outcome = f"new version of {where} after v{self.version} ({self.level})"
        else:
            outcome = f"incompatible with {where} at {self.level}; register would fail"
        return f"{self.model}: {outcome}"


def plan_model(
    model: type[BaseModel], *, topic_prefix: str, registry: SchemaRegistryProtocol
) -> PlannedStep:
    """What ``register`` would do for one model."""
    subject = subject_name(topic_prefix, model)
    schema = model_schema(model)
    level = registry.get_compatibility(subject)
    name = model.__name__
    existing = registry.lookup(subject, schema)
    if existing is not None:
        return PlannedStep(name, subject, "unchanged", level, existing.version, existing.schema_id)
    latest = registry.get_latest(subject)
    if latest is None:
        return PlannedStep(name, subject, "new subject", level)
    # "all" asks the registry to test exactly as a register request would, at its level.
    verdict = registry.test_compatibility(subject, schema, "all")
    action: Action = "new version" if verdict.is_compatible else "incompatible"
    return PlannedStep(
        name, subject, action, level, latest.version,
        messages=() if verdict.is_compatible else verdict.messages,
    )  # fmt: skip


def plan_registration(
    models: Iterable[type[BaseModel]], *, topic_prefix: str, registry: SchemaRegistryProtocol
) -> list[PlannedStep]:
    """The plan for every model, in catalog order (bases first)."""
    steps = [plan_model(m, topic_prefix=topic_prefix, registry=registry) for m in models]
    log.info(
        "registration planned",
        extra={a.replace(" ", "_"): sum(s.action == a for s in steps) for a in _ACTIONS},
    )
    return steps


_ACTIONS: tuple[Action, ...] = ("new subject", "unchanged", "new version", "incompatible")
