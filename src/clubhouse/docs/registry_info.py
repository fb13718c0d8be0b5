"""What the schema registry knows about one subject: versions, ids, changelog, compatibility.

Reads through ``SchemaRegistryProtocol`` only, so tests can pass a small fake. A registry that
cannot be reached, or refuses the credentials, stops the build (every later call would fail
the same way); any other refusal is recorded on that subject and the build goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from clubhouse.docs.changelog import FieldChange, diff_schema_texts
from clubhouse.docs.errors import DocsError
from clubhouse.services.kafka_protocol import SchemaRegistryProtocol
from clubhouse.services.registry_errors import (
    RegistryError,
    RegistryUnauthorizedError,
    RegistryUnreachableError,
)


@dataclass(frozen=True, slots=True)
class VersionDoc:
    """One registered version and what changed since the version before it."""

    version: int
    schema_id: int
    schema_json: str  # pretty-printed
    changes: tuple[FieldChange, ...] = ()


@dataclass(frozen=True, slots=True)
class RegistryDoc:
    """A subject's registry state, as seen by the local model's schema."""

    subject: str
    compatibility: str | None = None
    versions: tuple[VersionDoc, ...] = ()  # oldest first
    current_version: int | None = None  # the version that holds the local schema
    current_id: int | None = None
    pending: tuple[FieldChange, ...] = ()  # local model vs latest, when it is not registered
    error: str | None = None

    @property
    def registered(self) -> bool:
        """Whether the registry holds a current version of the subject."""
        return self.current_version is not None

    @property
    def latest(self) -> VersionDoc | None:
        """The newest version listed, or None when there are none."""
        return self.versions[-1] if self.versions else None


def registry_doc(registry: SchemaRegistryProtocol, subject: str, local_schema: str) -> RegistryDoc:
    """Everything the docs show about ``subject``; ``local_schema`` is the model's schema."""
    try:
        return _collect(registry, subject, local_schema)
    except (RegistryUnreachableError, RegistryUnauthorizedError):
        raise
    except RegistryError as exc:
        return RegistryDoc(subject, error=f"registry lookup of {subject} failed: {exc}")
    except DocsError as exc:
        return RegistryDoc(subject, error=f"a version of {subject} cannot be compared: {exc}")


def _collect(registry: SchemaRegistryProtocol, subject: str, local_schema: str) -> RegistryDoc:
    versions: list[VersionDoc] = []
    previous: str | None = None
    previous_number = 0
    for number in sorted(registry.get_versions(subject)):
        found = registry.get_version(subject, number)
        changes: tuple[FieldChange, ...] = ()
        if previous is not None:
            changes = tuple(diff_schema_texts(previous, found.schema,
                                         old_name=f"{subject} v{previous_number}",
                                         new_name=f"{subject} v{number}"))  # fmt: skip
        versions.append(VersionDoc(found.version, found.schema_id, _pretty(found.schema), changes))
        previous, previous_number = found.schema, number
    current = registry.lookup(subject, local_schema) if versions else None
    pending: tuple[FieldChange, ...] = ()
    if current is None and previous is not None:
        pending = tuple(diff_schema_texts(previous, local_schema,
                                     old_name=f"{subject} v{previous_number}",
                                     new_name="the local model"))  # fmt: skip
    return RegistryDoc(
        subject=subject,
        compatibility=registry.get_compatibility(subject),
        versions=tuple(versions),
        current_version=current.version if current else None,
        current_id=current.schema_id if current else None,
        pending=pending,
    )


def _pretty(schema: str) -> str:
    try:
        return json.dumps(json.loads(schema), indent=2, ensure_ascii=False)
    except json.JSONDecodeError:
        return schema  # show what the registry holds, even if it is not JSON
