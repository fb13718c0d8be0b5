"""The one in-memory SchemaRegistryProtocol of the test suite, with injectable failures.

``tests/integration/registration/test_registry_contract.py`` runs the same checks against
this fake and against the real client on a real registry process, so the two cannot drift.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Literal

from clubhouse.services.kafka_protocol import (
    CompatibilityLevel,
    CompatibilityResult,
    RegisteredSchema,
)
from clubhouse.services.registry_errors import NotFoundError, RegistryError


def _normal(schema: str) -> str:
    return json.dumps(json.loads(schema), sort_keys=True, separators=(",", ":"))


class FakeRegistry:
    """Registers without compatibility checks; ids are global and shared by equal schemas.

    ``fail[subject]`` is raised by ``register``, ``fail_reads[subject]`` by every read of
    the subject, ``incompatible[subject]`` makes ``test_compatibility`` say no with those
    reasons. ``calls`` logs ``(method, subject)``.
    """

    def __init__(self, versions: Mapping[str, Sequence[str]] | None = None) -> None:
        self.versions: dict[str, list[RegisteredSchema]] = {}
        self.ids: dict[str, int] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail: dict[str, BaseException] = {}
        self.fail_reads: dict[str, BaseException] = {}
        self.incompatible: dict[str, tuple[str, ...]] = {}
        self.levels: dict[str | None, CompatibilityLevel] = {None: "BACKWARD"}
        self._lock = threading.Lock()
        for subject, schemas in (versions or {}).items():
            for schema in schemas:
                self.register(subject, schema)
        self.calls.clear()

    def id_of(self, schema: str) -> int:
        return self.ids[_normal(schema)]

    def register(self, subject: str, schema: str) -> RegisteredSchema:
        with self._lock:
            self.calls.append(("register", subject))
            if subject in self.fail:
                raise self.fail[subject]
            key = _normal(schema)
            schema_id = self.ids.setdefault(key, len(self.ids) + 1)
            versions = self.versions.setdefault(subject, [])
            for existing in versions:
                if _normal(existing.schema) == key:
                    return existing
            registered = RegisteredSchema(subject, len(versions) + 1, schema_id, schema)
            versions.append(registered)
            return registered

    def _read(self, method: str, subject: str) -> list[RegisteredSchema]:
        with self._lock:
            self.calls.append((method, subject))
        if subject in self.fail_reads:
            raise self.fail_reads[subject]
        return self.versions.get(subject, [])

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        key = _normal(schema)
        return next((v for v in self._read("lookup", subject) if _normal(v.schema) == key), None)

    def get_schema(self, schema_id: int) -> str:
        for versions in self.versions.values():
            for v in versions:
                if v.schema_id == schema_id:
                    return v.schema
        raise NotFoundError(f"no schema id {schema_id}", status=404, code=40403)

    def get_latest(self, subject: str) -> RegisteredSchema | None:
        versions = self._read("get_latest", subject)
        return versions[-1] if versions else None

    def get_version(self, subject: str, version: int) -> RegisteredSchema:
        for v in self._read("get_version", subject):
            if v.version == version:
                return v
        raise NotFoundError(f"{subject} has no version {version}", status=404, code=40402)

    def get_versions(self, subject: str) -> list[int]:
        return [v.version for v in self._read("get_versions", subject)]

    def get_latest_schemas(self, subject_prefix: str) -> list[RegisteredSchema]:
        with self._lock:
            self.calls.append(("get_latest_schemas", subject_prefix))
        return [v[-1] for s, v in sorted(self.versions.items()) if s.startswith(subject_prefix)]

    def get_subjects(self) -> list[str]:
        return sorted(s for s, v in self.versions.items() if v)

    def get_compatibility(self, subject: str | None = None) -> CompatibilityLevel:
        return self.levels.get(subject, self.levels[None])

    def set_compatibility(self, level: CompatibilityLevel, subject: str | None = None) -> None:
        self.levels[subject] = level

    def test_compatibility(
        self, subject: str, schema: str, version: int | Literal["latest", "all"] = "latest"
    ) -> CompatibilityResult:
        with self._lock:
            self.calls.append(("test_compatibility", subject))
        reasons = self.incompatible.get(subject)
        return CompatibilityResult(not reasons, reasons or ())


class Boom(RegistryError):
    """A per-model failure."""
