"""Schemas as files: stable names, export from local models, download from a registry.

A directory of schemas holds one ``{subject}.avsc`` per subject (its latest schema) and, for
``--all-versions``, one ``{subject}.v{N}.avsc`` per live version. Subjects are percent-encoded
so any subject is a safe file name. Every file holds canonical JSON and a newline, so the same
schema is the same bytes whether it was exported or downloaded. ``manifest.json`` records what
the files cannot: the registry version of each bare ``.avsc`` and the subject's compatibility
level, when known.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from pydantic import BaseModel

from clubhouse.avro import canonical_json
from clubhouse.errors import ClubhouseError
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.kafka_protocol import (
    COMPATIBILITY_LEVELS,
    CompatibilityLevel,
    SchemaRegistryProtocol,
)

log = logging.getLogger(__name__)

SUFFIX = ".avsc"
MANIFEST = "manifest.json"
_VERSIONED = re.compile(r"^(?P<subject>.+)\.v(?P<version>[1-9][0-9]*)\.avsc$")


class SchemaDirectoryError(ClubhouseError):
    """A schema directory cannot be read or written."""


def schema_filename(subject: str, version: int | None = None) -> str:
    """``{subject}.avsc`` or ``{subject}.v{N}.avsc``, with the subject made file-name safe."""
    safe = quote(subject, safe="")
    return f"{safe}{SUFFIX}" if version is None else f"{safe}.v{version}{SUFFIX}"


def parse_filename(name: str) -> tuple[str, int | None] | None:
    """The (subject, version) a file name stands for; ``None`` for files that are not schemas."""
    match = _VERSIONED.match(name)
    if match:
        return unquote(match["subject"]), int(match["version"])
    if name.endswith(SUFFIX) and len(name) > len(SUFFIX):
        return unquote(name[: -len(SUFFIX)]), None
    return None


@dataclass(frozen=True, slots=True)
class SubjectFiles:
    """What a directory holds for one subject."""

    subject: str
    versions: Mapping[int, Path]  # from {subject}.v{N}.avsc
    latest_file: Path | None  # {subject}.avsc
    latest_version: int | None  # from the manifest
    level: CompatibilityLevel | None  # from the manifest


@dataclass(frozen=True, slots=True)
class SchemaDirectory:
    """The schema files of one directory, by subject."""

    path: Path
    subjects: Mapping[str, SubjectFiles] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> SchemaDirectory:
        """Index ``path``; fails when it is not a directory or its manifest is unreadable."""
        if not path.is_dir():
            raise SchemaDirectoryError(f"{path} is not a directory of .avsc schema files")
        manifest = _read_manifest(path)
        versions: dict[str, dict[int, Path]] = {}
        latest: dict[str, Path] = {}
        for file in sorted(path.iterdir()):
            parsed = parse_filename(file.name)
            if parsed is None or not file.is_file():
                continue
            subject, version = parsed
            if version is None:
                latest[subject] = file
            else:
                versions.setdefault(subject, {})[version] = file
        subjects = {}
        for subject in sorted(set(versions) | set(latest)):
            meta = manifest.get(subject, {})
            subjects[subject] = SubjectFiles(
                subject=subject,
                versions=dict(sorted(versions.get(subject, {}).items())),
                latest_file=latest.get(subject),
                latest_version=_int_or_none(meta.get("version")),
                level=_level_or_none(meta.get("level"), path),
            )
        return cls(path, subjects)


def write_schema(path: Path, schema: str) -> None:
    """Write ``schema`` to ``path`` as canonical JSON plus a newline."""
    try:
        text = canonical_json(json.loads(schema))
    except ValueError as exc:
        raise SchemaDirectoryError(f"refusing to write {path}: not JSON: {exc}") from exc
    path.write_text(text + "\n", encoding="utf-8")


def export_models(models: Iterable[type[BaseModel]], *, topic_prefix: str, out: Path) -> list[Path]:
    """Write each model's schema to ``out/{subject}.avsc``; returns the files written."""
    out = _ensure_dir(out)
    written: list[Path] = []
    manifest: dict[str, dict[str, Any]] = {}
    for model in models:
        subject = subject_name(topic_prefix, model)
        target = out / schema_filename(subject)
        write_schema(target, model_schema(model))
        manifest[subject] = {"model": model.__name__}
        written.append(target)
    _write_manifest(out, manifest, source="models")
    log.info("schemas exported", extra={"out": str(out), "files": len(written)})
    return written


def download_schemas(
    registry: SchemaRegistryProtocol,
    *,
    out: Path,
    all_versions: bool = False,
    subjects: Iterable[str] | None = None,
) -> list[Path]:
    """Write the registry's latest schema of each subject (and every version, if asked)."""
    out = _ensure_dir(out)
    wanted = sorted(subjects) if subjects is not None else sorted(registry.get_subjects())
    written: list[Path] = []
    manifest: dict[str, dict[str, Any]] = {}
    for subject in wanted:
        latest = registry.get_latest(subject)
        if latest is None:
            raise SchemaDirectoryError(f"subject {subject!r} has no live versions to download")
        target = out / schema_filename(subject)
        write_schema(target, latest.schema)
        written.append(target)
        if all_versions:
            for version in registry.get_versions(subject):
                registered = (
                    latest if version == latest.version else registry.get_version(subject, version)
                )
                target = out / schema_filename(subject, version)
                write_schema(target, registered.schema)
                written.append(target)
        manifest[subject] = {
            "version": latest.version,
            "level": registry.get_compatibility(subject),
        }
    _write_manifest(out, manifest, source="registry")
    log.info("schemas downloaded", extra={"out": str(out), "files": len(written)})
    return written


def _ensure_dir(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SchemaDirectoryError(f"cannot create output directory {out}: {exc}") from exc
    return out


def _write_manifest(out: Path, subjects: dict[str, dict[str, Any]], *, source: str) -> None:
    body = {"source": source, "subjects": dict(sorted(subjects.items()))}
    (out / MANIFEST).write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", "utf-8")


def _read_manifest(path: Path) -> dict[str, dict[str, Any]]:
    file = path / MANIFEST
    if not file.exists():
        return {}
    try:
        body = json.loads(file.read_text("utf-8"))
        subjects = body["subjects"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SchemaDirectoryError(
            f"{file} is not a schema manifest ({exc}); delete it or export again"
        ) from exc
    if not isinstance(subjects, dict):
        raise SchemaDirectoryError(f"{file}: 'subjects' must be an object")
    return {str(k): v for k, v in subjects.items() if isinstance(v, dict)}


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _level_or_none(value: object, path: Path) -> CompatibilityLevel | None:
    if value is None:
        return None
    for level in COMPATIBILITY_LEVELS:
        if isinstance(value, str) and value.upper() == level:
            return level
    raise SchemaDirectoryError(f"{path / MANIFEST}: unknown compatibility level {value!r}")
