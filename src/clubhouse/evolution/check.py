"""The compatibility gate: every local model against the earlier versions of its subject.

Each model is compared with what a ``SchemaSource`` (registry or directory) holds under its
subject, at the subject's level or an explicitly given one; transitive levels compare with
every version, the others with the latest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from clubhouse.avro.parsing import parse_schema
from clubhouse.evolution.compare import Comparison, Reason, compare
from clubhouse.evolution.sources import SchemaSource
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.kafka_protocol import CompatibilityLevel

log = logging.getLogger(__name__)

Status = Literal["compatible", "incompatible", "new"]


@dataclass(frozen=True, slots=True)
class ModelCheck:
    """The verdict on one model. ``new`` means its subject has no versions to compare with."""

    model: str
    subject: str
    status: Status
    level: CompatibilityLevel
    compared: tuple[int, ...]
    reasons: tuple[Reason, ...]
    messages: tuple[str, ...]

    @property
    def compatible(self) -> bool:
        """Whether the check found nothing incompatible."""
        return self.status != "incompatible"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every model's verdict, plus subjects under the prefix that no local model claims."""

    against: str
    results: tuple[ModelCheck, ...]
    orphans: tuple[str, ...]

    @property
    def compatible(self) -> bool:
        """Whether every model checked is compatible."""
        return all(r.compatible for r in self.results)


def check_model(
    model: type[BaseModel],
    *,
    topic_prefix: str,
    source: SchemaSource,
    level: CompatibilityLevel | None = None,
) -> ModelCheck:
    """Check one model; ``level`` overrides the level the source gives its subject."""
    subject = subject_name(topic_prefix, model)
    effective = level or source.level(subject)
    versions = source.versions(subject)
    if not versions:
        return ModelCheck(model.__name__, subject, "new", effective, (), (), ())
    candidate = parse_schema(model_schema(model), where=f"local model {model.__name__}")
    # Non-transitive levels need the latest version only; avoid fetching the others.
    wanted = versions if effective.endswith("_TRANSITIVE") else versions[-1:]
    previous = [
        (v, parse_schema(source.schema(subject, v), where=f"{source.description} {subject} v{v}"))
        for v in wanted
    ]
    result: Comparison = compare(model.__name__, candidate, previous, effective)
    status: Status = "compatible" if result.compatible else "incompatible"
    log.debug(
        "model checked",
        extra={"model": model.__name__, "subject": subject, "level": effective, "status": status},
    )
    return ModelCheck(
        model.__name__, subject, status, effective, result.compared, result.reasons,
        result.messages,
    )  # fmt: skip


def check_models(
    models: Iterable[type[BaseModel]],
    *,
    topic_prefix: str,
    source: SchemaSource,
    level: CompatibilityLevel | None = None,
) -> CheckReport:
    """Check every model; see ``check_model``."""
    results = tuple(
        check_model(m, topic_prefix=topic_prefix, source=source, level=level) for m in models
    )
    claimed = {r.subject for r in results}
    orphans = tuple(
        s
        for s in sorted(source.subjects())
        if s.startswith(f"{topic_prefix}-") and s.endswith("-value") and s not in claimed
    )
    report = CheckReport(source.description, results, orphans)
    log.info(
        "schemas checked",
        extra={
            "against": source.description,
            "models": len(results),
            "incompatible": sum(not r.compatible for r in results),
        },
    )
    return report
