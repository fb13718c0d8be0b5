"""The protocol interfaces Clubhouse depends on, so that tests and other backends can stand in.

The schema-registry section is used by registration, the service and the schema tools; the
Kafka section by the service and the client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

# --- Schema registry ------------------------------------------------------------------------

CompatibilityLevel = Literal[
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
]
COMPATIBILITY_LEVELS: tuple[CompatibilityLevel, ...] = (
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
)


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """One version of a schema under a subject, as the registry holds it."""

    subject: str
    version: int
    schema_id: int
    schema: str  # the Avro schema as JSON text


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The registry's verdict on a candidate schema, with its reasons when incompatible."""

    is_compatible: bool
    messages: tuple[str, ...] = field(default=())


@runtime_checkable
class SchemaRegistryProtocol(Protocol):
    """What Clubhouse needs from a Confluent-compatible schema registry.

    Schemas are Avro JSON text. Methods raise ``clubhouse.services.registry_errors`` types.
    """

    def register(self, subject: str, schema: str) -> int:
        """Register ``schema`` under ``subject`` (idempotent); returns its global id."""
        ...

    def check_schema_exists(self, subject: str, schema: str) -> int | None:
        """The id of ``schema`` if it is a live version of ``subject``, else ``None``."""
        ...

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        """The version of ``subject`` holding ``schema``, or ``None``."""
        ...

    def get_schema(self, schema_id: int) -> str:
        """The schema text registered under the global ``schema_id``."""
        ...

    def get_latest(self, subject: str) -> RegisteredSchema | None:
        """The latest live version of ``subject``, or ``None`` when it has none."""
        ...

    def get_version(self, subject: str, version: int) -> RegisteredSchema:
        """One version of ``subject``."""
        ...

    def get_versions(self, subject: str) -> list[int]:
        """The live version numbers of ``subject`` (empty when the subject is unknown)."""
        ...

    def get_subjects(self) -> list[str]:
        """Every subject with at least one live version."""
        ...

    def get_compatibility(self, subject: str | None = None) -> CompatibilityLevel:
        """The effective level of ``subject`` (falling back to global), or the global level."""
        ...

    def set_compatibility(self, level: CompatibilityLevel, subject: str | None = None) -> None:
        """Set the level of ``subject``, or the global level."""
        ...

    def test_compatibility(
        self, subject: str, schema: str, version: int | Literal["latest", "all"] = "latest"
    ) -> CompatibilityResult:
        """Whether ``schema`` may be registered under ``subject`` at its level."""
        ...
