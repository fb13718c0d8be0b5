"""The registry's value types: compatibility levels, modes, references and stored versions.

They are plain frozen dataclasses and enums so the store, the service and the API can pass
them around without knowing about SQL or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from clubhouse.registry.errors import ErrorCode, RegistryError

GLOBAL_SCOPE = ""
"""The settings scope of the registry-wide config and mode (subjects are never empty)."""


class CompatibilityLevel(StrEnum):
    """Confluent's seven compatibility levels; BACKWARD is the default."""

    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def checks_backward(self) -> bool:
        """The new schema must read data written with earlier ones."""
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def checks_forward(self) -> bool:
        """Earlier schemas must read data written with the new one."""
        return self.value.startswith(("FORWARD", "FULL"))

    @classmethod
    def parse(cls, value: object) -> CompatibilityLevel:
        if isinstance(value, str):
            try:
                return cls(value.strip().upper())
            except ValueError:
                pass
        raise RegistryError(
            422,
            ErrorCode.INVALID_COMPATIBILITY_LEVEL,
            f"Invalid compatibility level {value!r}: expected one of "
            f"{', '.join(level.value for level in cls)} (case-insensitive).",
        )


class Mode(StrEnum):
    """What a subject (or the whole registry) accepts: READWRITE is the default."""

    READWRITE = "READWRITE"
    READONLY = "READONLY"
    IMPORT = "IMPORT"

    @classmethod
    def parse(cls, value: object) -> Mode:
        if isinstance(value, str):
            try:
                return cls(value.strip().upper())
            except ValueError:
                pass
        raise RegistryError(
            422,
            ErrorCode.INVALID_MODE,
            f"Invalid mode {value!r}: expected one of {', '.join(m.value for m in cls)}.",
        )


DEFAULT_COMPATIBILITY = CompatibilityLevel.BACKWARD
DEFAULT_MODE = Mode.READWRITE


@dataclass(frozen=True, slots=True)
class Reference:
    """A named type this schema imports from ``subject`` at ``version``."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True, slots=True)
class StoredSchema:
    """A schema as the registry keeps it: its global id, canonical text and references."""

    id: int
    schema: str
    normalized: str
    references: tuple[Reference, ...]


@dataclass(frozen=True, slots=True)
class SubjectVersion:
    """One version of a subject, pointing at a global schema id."""

    subject: str
    version: int
    schema_id: int
    deleted: bool
