"""A small in-memory stand-in for SchemaRegistryProtocol: versions, ids, levels, lookups."""

from __future__ import annotations

import json
from typing import Literal

from clubhouse.services.kafka_protocol import (
    CompatibilityLevel,
    CompatibilityResult,
    RegisteredSchema,
)
from clubhouse.services.registry_errors import NotFoundError, RegistryError


def _canonical(schema: str) -> str:
    return json.dumps(json.loads(schema), sort_keys=True, separators=(",", ":"))


class FakeRegistry:
    """Registers without compatibility checks; ids are global and shared by equal schemas."""

    def __init__(self) -> None:
        self.subjects: dict[str, list[RegisteredSchema]] = {}
        self.levels: dict[str, CompatibilityLevel] = {}
        self.ids: dict[str, int] = {}
        self.fail_subjects: dict[str, RegistryError] = {}
        self.calls: list[str] = []

    def register(self, subject: str, schema: str) -> int:
        key = _canonical(schema)
        schema_id = self.ids.setdefault(key, len(self.ids) + 1)
        versions = self.subjects.setdefault(subject, [])
        for v in versions:
            if _canonical(v.schema) == key:
                return v.schema_id
        versions.append(RegisteredSchema(subject, len(versions) + 1, schema_id, schema))
        return schema_id

    def _versions(self, subject: str) -> list[RegisteredSchema]:
        self.calls.append(subject)
        if subject in self.fail_subjects:
            raise self.fail_subjects[subject]
        return self.subjects.get(subject, [])

    def check_schema_exists(self, subject: str, schema: str) -> int | None:
        found = self.lookup(subject, schema)
        return None if found is None else found.schema_id

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        key = _canonical(schema)
        return next((v for v in self._versions(subject) if _canonical(v.schema) == key), None)

    def get_schema(self, schema_id: int) -> str:
        for versions in self.subjects.values():
            for v in versions:
                if v.schema_id == schema_id:
                    return v.schema
        raise NotFoundError(f"no schema id {schema_id}", status=404, code=40403)

    def get_latest(self, subject: str) -> RegisteredSchema | None:
        versions = self._versions(subject)
        return versions[-1] if versions else None

    def get_version(self, subject: str, version: int) -> RegisteredSchema:
        for v in self._versions(subject):
            if v.version == version:
                return v
        raise NotFoundError(f"{subject} has no version {version}", status=404, code=40402)

    def get_versions(self, subject: str) -> list[int]:
        return [v.version for v in self._versions(subject)]

    def get_subjects(self) -> list[str]:
        return sorted(s for s, v in self.subjects.items() if v)

    def get_compatibility(self, subject: str | None = None) -> CompatibilityLevel:
        return self.levels.get(subject or "", self.levels.get("", "BACKWARD"))

    def set_compatibility(self, level: CompatibilityLevel, subject: str | None = None) -> None:
        self.levels[subject or ""] = level

    def test_compatibility(
        self, subject: str, schema: str, version: int | Literal["latest", "all"] = "latest"
    ) -> CompatibilityResult:
        return CompatibilityResult(True)
