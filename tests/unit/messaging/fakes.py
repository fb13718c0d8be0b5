"""A small in-memory SchemaRegistryProtocol for unit tests, with injectable failures."""

from __future__ import annotations

import threading
from typing import Literal

from clubhouse.services.kafka_protocol import (
    CompatibilityLevel,
    CompatibilityResult,
    RegisteredSchema,
)
from clubhouse.services.registry_errors import RegistryError


class FakeRegistry:
    def __init__(self) -> None:
        self.versions: dict[str, list[tuple[int, str]]] = {}
        self.ids: dict[str, int] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail: dict[str, BaseException] = {}  # subject -> error raised by register
        self.incompatible: dict[str, tuple[str, ...]] = {}
        self.levels: dict[str | None, CompatibilityLevel] = {None: "BACKWARD"}
        self._lock = threading.Lock()

    def register(self, subject: str, schema: str) -> int:
        with self._lock:
            self.calls.append(("register", subject))
            if subject in self.fail:
                raise self.fail[subject]
            schema_id = self.ids.setdefault(schema, len(self.ids) + 1)
            versions = self.versions.setdefault(subject, [])
            if all(s != schema for _, s in versions):
                versions.append((schema_id, schema))
            return schema_id

    def register_full(self, subject: str, schema: str) -> RegisteredSchema:
        schema_id = self.register(subject, schema)
        found = self.lookup(subject, schema)
        return RegisteredSchema(subject, found.version if found else 0, schema_id, schema)

    def check_schema_exists(self, subject: str, schema: str) -> int | None:
        found = self.lookup(subject, schema)
        return None if found is None else found.schema_id

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        with self._lock:
            self.calls.append(("lookup", subject))
        for version, (schema_id, text) in enumerate(self.versions.get(subject, []), 1):
            if text == schema:
                return RegisteredSchema(subject, version, schema_id, text)
        return None

    def get_schema(self, schema_id: int) -> str:
        return next(s for s, i in self.ids.items() if i == schema_id)

    def get_latest(self, subject: str) -> RegisteredSchema | None:
        versions = self.versions.get(subject)
        if not versions:
            return None
        schema_id, text = versions[-1]
        return RegisteredSchema(subject, len(versions), schema_id, text)

    def get_version(self, subject: str, version: int) -> RegisteredSchema:
        schema_id, text = self.versions[subject][version - 1]
        return RegisteredSchema(subject, version, schema_id, text)

    def get_versions(self, subject: str) -> list[int]:
        return list(range(1, len(self.versions.get(subject, [])) + 1))

    def get_latest_schemas(self, subject_prefix: str) -> list[RegisteredSchema]:
        with self._lock:
            self.calls.append(("get_latest_schemas", subject_prefix))
        latest = (self.get_latest(s) for s in self.versions if s.startswith(subject_prefix))
        return [r for r in latest if r is not None]

    def get_subjects(self) -> list[str]:
        return sorted(self.versions)

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
