"""Where the earlier versions of each subject come from: a registry or a directory of files.

The checks and the diff ask a ``SchemaSource`` for version numbers, schema texts and levels,
so the same code runs online (``RegistrySource``) and offline (``DirectorySource``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from clubhouse.evolution.files import SchemaDirectory, SchemaDirectoryError
from clubhouse.services.kafka_protocol import CompatibilityLevel, SchemaRegistryProtocol

DEFAULT_LEVEL = CompatibilityLevel.BACKWARD
"""The registry's own default, used offline when neither --level nor a manifest says more."""


class SchemaSource(Protocol):
    """Earlier versions of subjects, by number, oldest first."""

    @property
    def description(self) -> str:
        """Where the schemas come from, for reports."""
        ...

    def subjects(self) -> list[str]:
        """Every subject the source holds."""
        ...

    def versions(self, subject: str) -> list[int]:
        """The live version numbers of ``subject``, ascending; empty when it has none."""
        ...

    def schema(self, subject: str, version: int) -> str:
        """The schema text of one version."""
        ...

    def level(self, subject: str) -> CompatibilityLevel:
        """The compatibility level that applies to ``subject``."""
        ...


class RegistrySource:
    """A schema registry, through ``SchemaRegistryProtocol``."""

    def __init__(self, registry: SchemaRegistryProtocol, *, description: str = "registry") -> None:
        self._registry = registry
        self.description = description

    def subjects(self) -> list[str]:
        """The registry's subjects."""
        return self._registry.get_subjects()

    def versions(self, subject: str) -> list[int]:
        """The registry's versions of ``subject``, oldest first."""
        return sorted(self._registry.get_versions(subject))

    def schema(self, subject: str, version: int) -> str:
        """The schema text the registry holds for ``subject`` ``version``."""
        return self._registry.get_version(subject, version).schema

    def level(self, subject: str) -> CompatibilityLevel:
        """The registry's compatibility level for ``subject``."""
        return self._registry.get_compatibility(subject)


class DirectorySource:
    """Exported or downloaded ``.avsc`` files (see ``clubhouse.evolution.files``).

    Versioned files give a subject its versions; a lone ``{subject}.avsc`` is one version,
    numbered as the manifest says (1 when it says nothing). The level is the manifest's, else
    ``default_level``.
    """

    def __init__(self, path: Path, *, default_level: CompatibilityLevel = DEFAULT_LEVEL) -> None:
        self._dir = SchemaDirectory.read(path)
        self._default_level = default_level
        self.description = str(path)

    def subjects(self) -> list[str]:
        """The subjects with schema files in the directory."""
        return list(self._dir.subjects)

    def versions(self, subject: str) -> list[int]:
        """The versions of ``subject`` in the directory (a lone file counts as its latest)."""
        files = self._dir.subjects.get(subject)
        if files is None:
            return []
        if files.versions:
            return list(files.versions)
        return [files.latest_version or 1]

    def schema(self, subject: str, version: int) -> str:
        """The text of the file holding ``subject`` ``version``; an error if there is none."""
        files = self._dir.subjects.get(subject)
        path: Path | None = None
        if files is not None:
            path = files.versions.get(version)
            if path is None and not files.versions and version == (files.latest_version or 1):
                path = files.latest_file
        if path is None:
            raise SchemaDirectoryError(f"{self.description} has no version {version} of {subject}")
        try:
            return path.read_text("utf-8")
        except OSError as exc:
            raise SchemaDirectoryError(f"cannot read {path}: {exc}") from exc

    def level(self, subject: str) -> CompatibilityLevel:
        """The level set for ``subject`` in the directory, else the default level."""
        files = self._dir.subjects.get(subject)
        return (files.level if files else None) or self._default_level
