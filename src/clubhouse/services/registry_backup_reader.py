"""Read and check a registry backup completely before anything is written to a registry.

The backup is parsed as a stream (ijson), one subject at a time, and kept only as compact
records: each schema as UTF-8 bytes, no JSON text and no dicts of the whole document. So a
backup tens of megabytes large costs about its own size in memory, not several times it,
and a document nested absurdly deep is refused at the first level past :data:`MAX_DEPTH`
instead of exhausting the interpreter's recursion.

Everything the import relies on is checked here, so that a backup this module accepts can
only be refused part-way by the target registry itself (and the import then undoes itself):
the format, every field's type, compatibility levels and modes, version numbers, one schema
per id, and ids low enough that the registry can still give the next schema an id
(:data:`MAX_IMPORT_ID`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import ijson

from clubhouse.services.registry_backup import FORMAT, FORMAT_VERSION, BackupFormatError

# The deepest a backup this code writes goes is 7 (document, subjects, subject, versions,
# version, references, reference); the margin leaves room for fields added later.
MAX_DEPTH = 32
# The wire format carries a schema id in 4 signed bytes, and a registry gives a new schema
# the highest id in use plus one: an imported id of 2**31 - 1 would leave no id for any
# schema registered afterwards, so such a backup is refused rather than imported.
MAX_IMPORT_ID = 2**31 - 2
MAX_VERSION = 2**31 - 1
COMPATIBILITY_LEVELS = frozenset(
    {
        "BACKWARD",
        "BACKWARD_TRANSITIVE",
        "FORWARD",
        "FORWARD_TRANSITIVE",
        "FULL",
        "FULL_TRANSITIVE",
        "NONE",
    }
)
MODES = frozenset({"READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT"})
SCHEMA_TYPES = frozenset({"AVRO", "JSON", "PROTOBUF"})


@dataclass(frozen=True, slots=True)
class BackupReference:
    """A schema reference: the name it is imported under and the subject version it names."""

    name: str
    subject: str
    version: int


@dataclass(frozen=True, slots=True)
class BackupVersion:
    """One subject version of the backup; the schema text is kept as UTF-8 to halve memory."""

    subject: str
    version: int
    id: int
    schema_type: str
    schema: bytes
    references: tuple[BackupReference, ...]
    deleted: bool

    def body(self) -> dict[str, Any]:
        """The registration request that restores this version with its id and number."""
        return {
            "schema": self.schema.decode("utf-8", "surrogatepass"),
            "schemaType": self.schema_type,
            "references": [
                {"name": r.name, "subject": r.subject, "version": r.version}
                for r in self.references
            ],
            "id": self.id,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class BackupSubject:
    """A subject's own compatibility level and mode (None when it had none of its own)."""

    name: str
    compatibility: str | None
    mode: str | None


@dataclass(frozen=True)
class Backup:
    """A checked backup: global settings, subjects in order, versions oldest id first."""

    compatibility: str | None
    mode: str | None
    subjects: tuple[BackupSubject, ...]
    versions: tuple[BackupVersion, ...]


def _refuse(where: str, problem: str) -> BackupFormatError:
    return BackupFormatError(f"Not a usable registry backup: {where} {problem}.")


def _optional_choice(value: Any, choices: frozenset[str], where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in choices:
        raise _refuse(where, f"is {value!r}, not one of {', '.join(sorted(choices))}")
    return value


def _integer(value: Any, low: int, high: int, where: str, why: str = "") -> int:
    # bool is an int to Python, never to a backup.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _refuse(where, f"is {value!r}, not an integer")
    if not low <= value <= high:
        raise _refuse(where, f"is {value}, outside {low}..{high}{why}")
    return value


@dataclass
class _Collector:
    """Checks the parts of a backup as they arrive and keeps their compact form."""

    format: Any = None
    format_version: Any = None
    glob: Any = None
    seen: set[str] = field(default_factory=set)
    subjects: list[BackupSubject] = field(default_factory=list)
    versions: list[BackupVersion] = field(default_factory=list)
    # id -> (digest of what it holds, where it was first seen): one id, one schema.
    ids: dict[int, tuple[bytes, str]] = field(default_factory=dict)

    def top(self, key: str, value: Any) -> None:
        if key == "format":
            if value != FORMAT:
                raise _refuse("'format'", f"is {value!r}, not {FORMAT!r}")
            self.format = value
        elif key == "format_version":
            if value != FORMAT_VERSION:
                raise _refuse("'format_version'", f"is {value!r}, not {FORMAT_VERSION}")
            self.format_version = value
        elif key == "global":
            if not isinstance(value, dict):
                raise _refuse("'global'", "is not an object")
            self.glob = value

    def subject(self, index: int, subject: Any) -> None:
        where = f"subjects[{index}]"
        if not isinstance(subject, dict):
            raise _refuse(where, "is not an object")
        name = subject.get("name")
        if not isinstance(name, str) or not name:
            raise _refuse(f"{where}.name", "is missing or empty")
        if name in self.seen:
            raise _refuse(f"{where}.name", f"{name!r} appears twice")
        self.seen.add(name)
        compatibility = _optional_choice(
            subject.get("compatibility"), COMPATIBILITY_LEVELS, f"{where}.compatibility"
        )
        mode = _optional_choice(subject.get("mode"), MODES, f"{where}.mode")
        versions = subject.get("versions")
        if not isinstance(versions, list):
            raise _refuse(f"{where}.versions", "is not a list")
        numbers: set[int] = set()
        for j, version in enumerate(versions):
            parsed = self._version(name, version, f"{where}.versions[{j}]")
            if parsed.version in numbers:
                raise _refuse(f"{where}.versions[{j}].version", f"{parsed.version} appears twice")
            numbers.add(parsed.version)
            self.versions.append(parsed)
        self.subjects.append(BackupSubject(name, compatibility, mode))

    def _version(self, subject: str, version: Any, where: str) -> BackupVersion:
        if not isinstance(version, dict):
            raise _refuse(where, "is not an object")
        number = _integer(version.get("version"), 1, MAX_VERSION, f"{where}.version")
        schema_id = _integer(
            version.get("id"),
            1,
            MAX_IMPORT_ID,
            f"{where}.id",
            " (a registry gives the next schema the highest id plus one, and "
            f"{MAX_IMPORT_ID + 1} is the last id a message can carry)",
        )
        schema = version.get("schema")
        if not isinstance(schema, str):
            raise _refuse(f"{where}.schema", "is missing or not a string")
        schema_type = _optional_choice(
            version.get("schemaType"), SCHEMA_TYPES, f"{where}.schemaType"
        )
        deleted = version.get("deleted")
        if deleted is not None and not isinstance(deleted, bool):
            raise _refuse(f"{where}.deleted", f"is {deleted!r}, not true or false")
        references = tuple(self._references(version.get("references"), f"{where}.references"))
        parsed = BackupVersion(
            subject=subject,
            version=number,
            id=schema_id,
            schema_type=schema_type or "AVRO",
            schema=schema.encode("utf-8", "surrogatepass"),
            references=references,
            deleted=bool(deleted),
        )
        # ensure_ascii (the default) escapes lone surrogates, so the text always encodes.
        held = [parsed.schema_type, schema, [[r.name, r.subject, r.version] for r in references]]
        digest = hashlib.sha256(json.dumps(held).encode("ascii")).digest()
        first = self.ids.setdefault(schema_id, (digest, where))
        if first[0] != digest:
            raise _refuse(f"{where}.id", f"{schema_id} holds another schema than at {first[1]}.id")
        return parsed

    @staticmethod
    def _references(value: Any, where: str) -> Iterator[BackupReference]:
        if value is None:
            return
        if not isinstance(value, list):
            raise _refuse(where, "is not a list")
        for k, ref in enumerate(value):
            at = f"{where}[{k}]"
            if not isinstance(ref, dict):
                raise _refuse(at, "is not an object")
            name, subject = ref.get("name"), ref.get("subject")
            if not isinstance(name, str) or not isinstance(subject, str):
                raise _refuse(at, "needs a 'name' and a 'subject' (strings)")
            number = _integer(ref.get("version"), 1, MAX_VERSION, f"{at}.version")
            yield BackupReference(name, subject, number)

    def finish(self) -> Backup:
        if self.format is None:
            raise _refuse("'format'", f"is missing (expected {FORMAT!r})")
        if self.format_version is None:
            raise _refuse("'format_version'", f"is missing (expected {FORMAT_VERSION})")
        if self.glob is None:
            raise _refuse("'global'", "is missing")
        compatibility = _optional_choice(
            self.glob.get("compatibility"), COMPATIBILITY_LEVELS, "global.compatibility"
        )
        mode = _optional_choice(self.glob.get("mode"), MODES, "global.mode")
        # Oldest id first, so a reference always names a version restored before it.
        versions = sorted(self.versions, key=lambda v: (v.id, v.subject, v.version))
        return Backup(compatibility, mode, tuple(self.subjects), tuple(versions))


def backup_from_document(document: Any) -> Backup:
    """Check a backup already decoded into Python objects (as :func:`export_registry` gives)."""
    if not isinstance(document, dict):
        raise _refuse("the document", "is not a JSON object")
    collector = _Collector()
    for key in ("format", "format_version", "global"):
        if key in document:
            collector.top(key, document[key])
    subjects = document.get("subjects")
    if not isinstance(subjects, list):
        raise _refuse("'subjects'", "is missing or not a list")
    for i, subject in enumerate(subjects):
        collector.subject(i, subject)
    return collector.finish()


class _Path:
    """Where the parser is, as ``subjects[3].versions[0].id``, for error messages."""

    def __init__(self) -> None:
        # One [is_array, key or index] per open container.
        self.frames: list[list[Any]] = []

    def __len__(self) -> int:
        return len(self.frames)

    def value_starts(self) -> None:
        if self.frames and self.frames[-1][0]:
            self.frames[-1][1] += 1

    def open(self, is_array: bool) -> None:
        self.frames.append([is_array, -1 if is_array else None])

    def text(self) -> str:
        out = ""
        for is_array, step in self.frames:
            if is_array:
                out += f"[{max(step, 0)}]"
            elif step is not None:
                out += f".{step}" if out else str(step)
        return out or "the top level"


_STARTS = {"start_map": False, "start_array": True}
_ENDS = frozenset({"end_map", "end_array"})


def _events(stream: BinaryIO, path: _Path) -> Iterable[tuple[str, Any]]:
    # basic_parse, not parse: parse builds a prefix string for every event, which grows with
    # the depth and makes a deeply nested document quadratic before the depth check sees it.
    try:
        yield from ijson.basic_parse(stream)
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):  # the C parser's messages come as bytes
            detail = detail.decode("utf-8", "replace")
        # The parser's own text goes on to quote the input; its first line says what.
        first = (str(detail).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
        raise BackupFormatError(
            f"The backup is not valid JSON at {path.text()}: {first}."
        ) from None


def read_backup(stream: BinaryIO) -> Backup:
    """Parse and check the backup in ``stream`` (bytes) without holding its text in memory.

    Raises BackupFormatError naming what is wrong and where (``subjects[2].versions[0].id``).
    """
    collector = _Collector()
    path = _Path()
    builder: Any = None  # an ijson ObjectBuilder while one top-level part is being built
    built_at = 0  # the depth the part being built started at
    target: tuple[str, int] | None = None
    saw_subjects = False
    for event, value in _events(stream, path):
        if event == "map_key":
            if builder is not None:
                builder.event(event, value)
            path.frames[-1][1] = value
            continue
        if event in _ENDS:
            if builder is not None:
                builder.event(event, value)
            path.frames.pop()
            if builder is not None and len(path) == built_at:
                _deliver(collector, target, builder.value)
                builder, target = None, None
            continue
        # A value starts here: a container or a scalar.
        path.value_starts()
        if builder is None:
            target = _target(path)
            if target is not None and target[0] == "subjects" and target[1] < 0:
                saw_subjects = True
                if event != "start_array":
                    raise _refuse("'subjects'", "is missing or not a list")
                target = None
            elif target is not None:
                if event in _STARTS:
                    builder, built_at = ijson.ObjectBuilder(), len(path)
                else:
                    _deliver(collector, target, value)
                    target = None
            elif not path.frames and event != "start_map":
                raise _refuse("the document", "is not a JSON object")
        if builder is not None:
            builder.event(event, value)
        if event in _STARTS:
            if len(path) >= MAX_DEPTH:
                raise _refuse(path.text(), f"is nested deeper than {MAX_DEPTH} levels")
            path.open(_STARTS[event])
    if not saw_subjects:
        raise _refuse("'subjects'", "is missing or not a list")
    return collector.finish()


def _target(path: _Path) -> tuple[str, int] | None:
    """Which part of the backup starts at ``path``: a top-level key, or subject i (-1: the
    list itself); None for anything else."""
    frames = path.frames
    if len(frames) == 1 and not frames[0][0]:
        key = frames[0][1]
        if key == "subjects":
            return ("subjects", -1)
        if key in ("format", "format_version", "global"):
            return (key, 0)
    if len(frames) == 2 and frames[0][1] == "subjects" and frames[1][0]:
        return ("subjects", frames[1][1])
    return None


def _deliver(collector: _Collector, target: tuple[str, int] | None, value: Any) -> None:
    if target is None:
        return
    if target[0] == "subjects":
        collector.subject(target[1], value)
    else:
        collector.top(target[0], value)
