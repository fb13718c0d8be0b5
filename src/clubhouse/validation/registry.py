"""Validate messages against the schemas a registry holds, and refuse non-conforming ones.

``validate_against_registry`` answers with every violation at once. ``StrictValidator`` is the
hook a producer calls before sending: it raises ``SchemaViolationError`` carrying that list,
so nothing that breaks the registered contract reaches the topic.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import avro.schema
from pydantic import BaseModel

from clubhouse.avro.parsing import parse_schema
from clubhouse.errors import ClubhouseError
from clubhouse.messaging.subjects import subject_name
from clubhouse.services.kafka_protocol import RegisteredSchema, SchemaRegistryProtocol
from clubhouse.validation.conformance import Violation, violations

log = logging.getLogger(__name__)

Version = int | Literal["latest"]


class SubjectNotRegisteredError(ClubhouseError):
    """The subject has no live version to validate against."""


class SchemaViolationError(ClubhouseError):
    """A message does not conform to its registered schema; ``violations`` lists every way."""

    def __init__(self, subject: str, version: int, violations: list[Violation]) -> None:
        self.subject = subject
        self.version = version
        self.violations = list(violations)
        lines = "\n".join(f"  {v}" for v in self.violations)
        super().__init__(
            f"message does not conform to {subject} v{version} "
            f"({len(self.violations)} violation(s)):\n{lines}"
        )


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating one message against one registered schema version."""

    subject: str
    version: int
    schema_id: int
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        """Whether no violation was found."""
        return not self.violations

    def raise_if_invalid(self) -> None:
        """Raise ``SchemaViolationError`` with every violation, if there are any."""
        if self.violations:
            raise SchemaViolationError(self.subject, self.version, list(self.violations))


def fetch_registered(
    registry: SchemaRegistryProtocol, subject: str, version: Version = "latest"
) -> RegisteredSchema:
    """One registered version of ``subject``; a subject without versions is a clear error."""
    if version == "latest":
        found = registry.get_latest(subject)
        if found is None:
            raise SubjectNotRegisteredError(
                f"subject {subject!r} has no registered schema; register the schemas first "
                "(clubhouse register), or check --topic-prefix / --subject"
            )
        return found
    return registry.get_version(subject, version)


def validate_against_registry(
    instance_or_dict: BaseModel | Mapping[str, Any],
    subject: str,
    version: Version = "latest",
    *,
    registry: SchemaRegistryProtocol,
) -> ValidationReport:
    """Validate a model instance or a JSON-shaped dict against ``subject`` at ``version``."""
    registered = fetch_registered(registry, subject, version)
    schema = parse_schema(registered.schema, where=f"{subject} v{registered.version}")
    found = violations(schema, instance_or_dict)
    return ValidationReport(subject, registered.version, registered.schema_id, tuple(found))


class StrictValidator:
    """Refuses messages that do not conform to the schema registered under their subject.

    A producer calls it before serializing: ``validator(message, subject)`` returns when the
    message conforms and raises ``SchemaViolationError`` otherwise. Its signature matches
    ``MessageSerde``'s ``before_send`` hook, so strict mode is
    ``MessageSerde(..., before_send=StrictValidator(registry, topic_prefix=prefix))``.
    Registered schemas are fetched once per subject and kept for the life of this object;
    call ``forget()`` after registering new versions.
    """

    def __init__(
        self,
        registry: SchemaRegistryProtocol,
        *,
        topic_prefix: str,
        version: Version = "latest",
    ) -> None:
        self._registry = registry
        self._topic_prefix = topic_prefix
        self._version = version
        self._schemas: dict[str, tuple[int, avro.schema.Schema]] = {}

    def __call__(self, message: BaseModel, subject: str | None = None) -> None:
        subject = subject or subject_name(self._topic_prefix, type(message))
        version, schema = self._schema(subject)
        found = violations(schema, message)
        if found:
            log.warning(
                "message refused",
                extra={"subject": subject, "version": version, "violations": len(found)},
            )
            raise SchemaViolationError(subject, version, found)

    def forget(self) -> None:
        """Drop the cached schemas so the next message fetches them again."""
        self._schemas.clear()

    def _schema(self, subject: str) -> tuple[int, avro.schema.Schema]:
        cached = self._schemas.get(subject)
        if cached is None:
            registered = fetch_registered(self._registry, subject, self._version)
            parsed = parse_schema(registered.schema, where=f"{subject} v{registered.version}")
            cached = self._schemas[subject] = (registered.version, parsed)
        return cached
