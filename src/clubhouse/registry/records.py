"""The registry's value types: modes, references and stored versions; request parsing of levels.

They are plain frozen dataclasses and enums so the store, the service and the API can pass
them around without knowing about SQL or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from clubhouse.avro.compatibility import CompatibilityLevel
from clubhouse.registry.errors import ApiError, ErrorCode

_Choice = TypeVar("_Choice", bound=StrEnum)

GLOBAL_SCOPE = ""
"""The settings scope of the registry-wide config and mode (subjects are never empty)."""


def _parse_choice(choices: type[_Choice], value: object, code: ErrorCode, problem: str) -> _Choice:
    """``value`` as a member of ``choices`` (case-insensitive), else a 422 naming the choices."""
    if isinstance(value, str):
        try:
            return choices(value.strip().upper())
        except ValueError:
            pass
    expected = ", ".join(choice.value for choice in choices)
    raise ApiError(422, code, problem.format(value=value, expected=expected))


def parse_compatibility(value: object) -> CompatibilityLevel:
    """A compatibility level from a request body; 42203 names the valid levels."""
    return _parse_choice(
        CompatibilityLevel,
        value,
        ErrorCode.INVALID_COMPATIBILITY_LEVEL,
        # Confluent's own wording, which clients and test suites compare verbatim.
        "Invalid compatibility level. Valid values are none, backward, forward, full, "
        "backward_transitive, forward_transitive, and full_transitive",
    )


class Mode(StrEnum):
    """What a subject (or the whole registry) accepts: READWRITE is the default."""

    READWRITE = "READWRITE"
    READONLY = "READONLY"
    IMPORT = "IMPORT"

    @classmethod
    def parse(cls, value: object) -> Mode:
        """The mode named by ``value``; a 422 error for anything else."""
        return _parse_choice(
            cls,
            value,
            ErrorCode.INVALID_MODE,
            "Invalid mode {value!r}: expected one of {expected}.",
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
        """The reference as Confluent writes it: ``name``, ``subject`` and ``version``."""
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
