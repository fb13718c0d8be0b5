"""The registry's semantics: ids, versions, deletes, compatibility, configs and modes.

Plain synchronous methods over a :class:`~clubhouse.registry.store.Store`, so tests and the
HTTP layer call the same code. Every decision that assigns an id or a version is taken inside
the store's write transaction; reads that can answer without writing (re-registering a
schema the subject already has) are served from a snapshot first.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from clubhouse.avro import compatibility
from clubhouse.avro.compatibility import CompatibilityLevel
from clubhouse.registry import canonical
from clubhouse.registry.errors import (
    ApiError,
    ErrorCode,
    invalid_schema,
    operation_not_permitted,
    schema_not_found,
    subject_not_found,
    version_not_found,
)
from clubhouse.registry.records import (
    DEFAULT_COMPATIBILITY,
    DEFAULT_MODE,
    GLOBAL_SCOPE,
    Mode,
    Reference,
    StoredSchema,
    SubjectVersion,
)
from clubhouse.registry.store import Store, Transaction
from clubhouse.services.kafka_protocol import CompatibilityResult

log = logging.getLogger(__name__)

LATEST = -1
"""The version spec that means the latest version (Confluent also accepts -1 for it)."""

SUPPORTED_TYPES = ("AVRO",)
_MAX_SUBJECT_LENGTH = 255
_MAX_REFERENCE_DEPTH = 32
_CACHED_SCHEMA_CHARS = 64 * 1024


@dataclass(frozen=True, slots=True)
class SchemaRequest:
    """A schema as a client submits it for register, lookup or a compatibility test."""

    schema: str
    schema_type: str = "AVRO"
    references: tuple[Reference, ...] = ()
    id: int | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Registered:
    """The answer to a registration: the global id and the subject's version."""

    id: int
    version: int


@dataclass(frozen=True, slots=True)
class VersionView:
    """A subject version with its schema, as the read endpoints return it."""

    subject: str
    version: int
    schema: StoredSchema
    deleted: bool


@dataclass(frozen=True, slots=True)
class _Setting:
    """A per-subject setting with a registry-wide fallback, and how error messages name it."""

    key: str
    missing: ErrorCode  # the error code when a subject has no value of its own
    name: str  # "compatibility", as Confluent's message names it

    def effective(self, tx: Transaction, subject: str) -> str | None:
        """The subject's own value, else the registry-wide one; None when neither is set."""
        return tx.setting(subject, self.key) or tx.setting(GLOBAL_SCOPE, self.key)

    def not_configured(self, subject: str) -> ApiError:
        message = f"Subject '{subject}' does not have subject-level {self.name} configured"
        return ApiError(404, self.missing, message)


_COMPATIBILITY = _Setting(
    "compatibility", ErrorCode.SUBJECT_COMPATIBILITY_NOT_CONFIGURED, "compatibility"
)
_MODE = _Setting("mode", ErrorCode.SUBJECT_MODE_NOT_CONFIGURED, "mode")


def validate_subject(subject: str) -> None:
    """Subjects are non-empty, at most 255 characters, without control characters."""
    if not subject or len(subject) > _MAX_SUBJECT_LENGTH or not subject.isprintable():
        raise ApiError(
            422,
            ErrorCode.INVALID_SUBJECT,
            f"Invalid subject {subject!r}: a subject is 1 to {_MAX_SUBJECT_LENGTH} printable "
            "characters.",
        )


def _check_type(schema_type: str) -> None:
    if schema_type.upper() not in SUPPORTED_TYPES:
        raise invalid_schema(
            f"schemaType {schema_type!r} is not supported: this registry supports only AVRO."
        )


def _text_size(references: Sequence[canonical.ResolvedReference]) -> int:
    return sum(len(ref.schema) + _text_size(ref.dependencies) for ref in references)


class Registry:
    """Confluent-compatible schema registry semantics on top of a store."""

    def __init__(self, store: Store, *, parse_cache_size: int = 4096) -> None:
        self._store = store
        # Parsing Avro dominates lookups and compatibility checks; results depend only on
        # the text and the content of the references, which together form the cache key.
        self._parse_cached = functools.lru_cache(maxsize=parse_cache_size)(canonical.parse)

    def _parse(
        self, text: str, references: tuple[canonical.ResolvedReference, ...]
    ) -> canonical.ParsedSchema:
        # Only small schemas are cached, so the cache's memory stays bounded (entries times
        # 64 KiB) whatever size of schemas clients send.
        size = len(text) + _text_size(references)
        if size > _CACHED_SCHEMA_CHARS:
            return canonical.parse(text, references)
        return self._parse_cached(text, references)

    # ---- helpers ---------------------------------------------------------------------------

    def _resolve(
        self, tx: Transaction, references: Sequence[Reference], depth: int = 0
    ) -> tuple[canonical.ResolvedReference, ...]:
        if depth > _MAX_REFERENCE_DEPTH:
            raise invalid_schema(
                f"references nest deeper than {_MAX_REFERENCE_DEPTH} levels; is there a cycle?"
            )
        names = [ref.name for ref in references]
        if len(set(names)) != len(names):
            raise invalid_schema(f"reference names must be unique, got {names}.")
        resolved = []
        for ref in references:
            found = tx.version(ref.subject, ref.version)
            stored = None if found is None else tx.schema(found.schema_id)
            if found is None or stored is None:
                raise invalid_schema(
                    f"reference '{ref.name}' points to version {ref.version} of subject "
                    f"'{ref.subject}', which does not exist; register it first."
                )
            resolved.append(
                canonical.ResolvedReference(
                    reference=ref,
                    schema_id=stored.id,
                    schema=stored.schema,
                    dependencies=self._resolve(tx, stored.references, depth + 1),
                )
            )
        return tuple(resolved)

    def _parse_request(
        self, tx: Transaction, request: SchemaRequest
    ) -> tuple[canonical.ParsedSchema, tuple[canonical.ResolvedReference, ...]]:
        _check_type(request.schema_type)
        resolved = self._resolve(tx, request.references)
        return self._parse(request.schema, resolved), resolved

    def _parse_stored(self, tx: Transaction, schema: StoredSchema) -> canonical.ParsedSchema:
        return self._parse(schema.schema, self._resolve(tx, schema.references))

    def _schema(self, tx: Transaction, schema_id: int) -> StoredSchema:
        stored = tx.schema(schema_id)
        if stored is None:  # versions reference schemas by foreign key, so this is a bug
            raise RuntimeError(f"schema id {schema_id} is used by a version but is missing")
        return stored

    @staticmethod
    def _level(tx: Transaction, subject: str) -> CompatibilityLevel:
        value = _COMPATIBILITY.effective(tx, subject)
        return CompatibilityLevel(value) if value else DEFAULT_COMPATIBILITY

    @staticmethod
    def _mode(tx: Transaction, subject: str) -> Mode:
        value = _MODE.effective(tx, subject)
        return Mode(value) if value else DEFAULT_MODE

    @staticmethod
    def _require_writable(tx: Transaction, subject: str) -> Mode:
        mode = Registry._mode(tx, subject)
        if mode is Mode.READONLY:
            raise operation_not_permitted(
                f"Subject '{subject}' is in READONLY mode; change the mode to write to it."
            )
        return mode

    @staticmethod
    def _pick(versions: Sequence[SubjectVersion], ids: Sequence[int]) -> SubjectVersion | None:
        wanted = set(ids)
        return next((sv for sv in versions if sv.schema_id in wanted), None)

    # ---- reading schemas -------------------------------------------------------------------

    def schema_by_id(self, schema_id: int) -> StoredSchema:
        with self._store.read() as tx:
            stored = tx.schema(schema_id)
            if stored is None or not tx.subject_versions_of_schema(schema_id, include_deleted=True):
                raise schema_not_found(schema_id)
            return stored

    def versions_of_schema(
        self, schema_id: int, *, deleted: bool, subject: str | None = None
    ) -> list[SubjectVersion]:
        with self._store.read() as tx:
            every = tx.subject_versions_of_schema(schema_id, include_deleted=True)
            if not every:
                raise schema_not_found(schema_id)
            return [
                sv
                for sv in every
                if (deleted or not sv.deleted) and (subject is None or sv.subject == subject)
            ]

    def list_schemas(self, *, prefix: str, deleted: bool, latest_only: bool) -> list[VersionView]:
        with self._store.read() as tx:
            versions = [
                sv
                for sv in tx.all_versions(include_deleted=deleted)
                if sv.subject.startswith(prefix)
            ]
            if latest_only:
                latest: dict[str, SubjectVersion] = {}
                for sv in versions:
                    latest[sv.subject] = sv
                versions = list(latest.values())
            return [
                VersionView(sv.subject, sv.version, self._schema(tx, sv.schema_id), sv.deleted)
                for sv in versions
            ]

    # ---- subjects and versions -------------------------------------------------------------

    def subjects(self, *, prefix: str, deleted: bool, deleted_only: bool) -> list[str]:
        with self._store.read() as tx:
            names = tx.subjects(include_deleted=deleted, deleted_only=deleted_only)
        return [name for name in names if name.startswith(prefix)]

    def versions(self, subject: str, *, deleted: bool, deleted_only: bool) -> list[int]:
        with self._store.read() as tx:
            every = tx.versions(subject, include_deleted=True)
        live = [sv.version for sv in every if not sv.deleted]
        if not every or (not live and not (deleted or deleted_only)):
            raise subject_not_found(subject)
        if deleted_only:
            return [sv.version for sv in every if sv.deleted]
        return [sv.version for sv in every] if deleted else live

    def get_version(self, subject: str, version: int, *, deleted: bool) -> VersionView:
        with self._store.read() as tx:
            versions = tx.versions(subject, include_deleted=deleted)
            if not versions:
                raise subject_not_found(subject)
            if version == LATEST:
                found: SubjectVersion | None = versions[-1]
            else:
                found = next((sv for sv in versions if sv.version == version), None)
            if found is None:
                raise version_not_found(version)
            return VersionView(
                subject, found.version, self._schema(tx, found.schema_id), found.deleted
            )

    def referenced_by(self, subject: str, version: int) -> list[int]:
        view = self.get_version(subject, version, deleted=True)
        with self._store.read() as tx:
            return tx.referrers(subject, view.version, include_deleted=False)

    def lookup(
        self, subject: str, request: SchemaRequest, *, normalize: bool, deleted: bool
    ) -> VersionView:
        """The version of ``subject`` holding ``request``'s schema (40401 / 40403 otherwise)."""
        with self._store.read() as tx:
            versions = tx.versions(subject, include_deleted=deleted)
            if not versions:
                raise subject_not_found(subject)
            parsed, resolved = self._parse_request(tx, request)
            text = parsed.normalized if normalize else parsed.canonical
            found = self._pick(
                versions, tx.schema_ids_by_fingerprint(canonical.fingerprint(text, resolved))
            )
            if found is None:
                # Fall back to meaning over spelling: a stored schema that normalizes to the
                # same text is the same schema to every reader.
                found = self._pick(
                    versions,
                    tx.schema_ids_by_normalized(canonical.fingerprint(parsed.normalized, resolved)),
                )
            if found is None:
                raise schema_not_found()
            return VersionView(
                subject, found.version, self._schema(tx, found.schema_id), found.deleted
            )

    def find_registered(
        self, subject: str, request: SchemaRequest, *, normalize: bool
    ) -> Registered | None:
        """What registering ``request`` would answer if ``subject`` already has it live, else None.

        Read-only, so it can answer the common case (every producer start re-registers) from
        a snapshot without the write lock. Refuses what ``register`` refuses (mode, subject).
        """
        validate_subject(subject)
        if request.id is not None or request.version is not None:
            return None
        with self._store.read() as tx:
            self._require_writable(tx, subject)
            parsed, resolved = self._parse_request(tx, request)
            text = parsed.normalized if normalize else parsed.canonical
            existing = self._pick(
                tx.versions(subject, include_deleted=False),
                tx.schema_ids_by_fingerprint(canonical.fingerprint(text, resolved)),
            )
        return None if existing is None else Registered(existing.schema_id, existing.version)

    def register(self, subject: str, request: SchemaRequest, *, normalize: bool) -> Registered:
        """Register ``request`` under ``subject``: its id and version, new or existing."""
        existing = self.find_registered(subject, request, normalize=normalize)
        if existing is not None:
            return existing
        with self._store.write() as tx:
            return self._register_locked(tx, subject, request, normalize=normalize)

    def _register_locked(
        self, tx: Transaction, subject: str, request: SchemaRequest, *, normalize: bool
    ) -> Registered:
        mode = self._require_writable(tx, subject)
        explicit = request.id is not None or request.version is not None
        if explicit and mode is not Mode.IMPORT:
            raise operation_not_permitted(
                f"Subject '{subject}' is in {mode.value} mode: a registration may carry an "
                "'id' or a 'version' only in IMPORT mode (used to restore backups)."
            )
        parsed, resolved = self._parse_request(tx, request)
        text = parsed.normalized if normalize else parsed.canonical
        fingerprint = canonical.fingerprint(text, resolved)
        normalized_fingerprint = canonical.fingerprint(parsed.normalized, resolved)
        same_ids = tx.schema_ids_by_fingerprint(fingerprint)
        live = tx.versions(subject, include_deleted=False)
        if request.version is None:
            existing = self._pick(live, same_ids)
            if existing is not None and (request.id is None or request.id == existing.schema_id):
                return Registered(existing.schema_id, existing.version)

        if mode is not Mode.IMPORT:
            level = self._level(tx, subject)
            previous = [
                (sv.version, self._parse_stored(tx, self._schema(tx, sv.schema_id)).avro)
                for sv in live
            ]
            problems = compatibility.check(level, parsed.avro, previous)
            if problems:
                raise ApiError(
                    409,
                    ErrorCode.INCOMPATIBLE_SCHEMA,
                    # Confluent's wording; the details name the level and each problem.
                    "Schema being registered is incompatible with an earlier schema for "
                    f'subject "{subject}", details: [{level.value}: ' + ", ".join(problems) + "]",
                )

        def insert(schema_id: int | None) -> int:
            return tx.insert_schema(
                schema_id=schema_id,
                schema=text,
                normalized=parsed.normalized,
                references=request.references,
                fingerprint=fingerprint,
                normalized_fingerprint=normalized_fingerprint,
            )

        if request.id is not None:
            holder = tx.schema(request.id)
            if holder is None:
                schema_id = insert(request.id)
            elif request.id in same_ids:
                schema_id = request.id
            else:
                raise ApiError(
                    422,
                    ErrorCode.ID_DOES_NOT_MATCH,
                    f"Schema id {request.id} already holds a different schema; an import "
                    "cannot reuse it. Import into an empty registry or remove the conflict.",
                )
        else:
            schema_id = same_ids[0] if same_ids else insert(None)

        if request.version is not None:
            taken = tx.version(subject, request.version)
            if taken is not None:
                if taken.schema_id == schema_id:
                    return Registered(schema_id, taken.version)
                raise ApiError(
                    422,
                    ErrorCode.ID_DOES_NOT_MATCH,
                    f"Version {request.version} of subject '{subject}' already holds schema id "
                    f"{taken.schema_id}, not {schema_id}.",
                )
            version = request.version
        else:
            version = tx.max_version(subject) + 1
        tx.insert_version(subject, version, schema_id)
        log.info(
            "schema registered",
            extra={"subject": subject, "version": version, "schema_id": schema_id},
        )
        return Registered(schema_id, version)

    # ---- deleting --------------------------------------------------------------------------

    @staticmethod
    def _check_unreferenced(
        tx: Transaction,
        subject: str,
        versions: Sequence[int],
        *,
        include_deleted: bool,
        whole_subject: bool,
    ) -> None:
        for version in versions:
            for referrer in tx.referrers(subject, version, include_deleted=include_deleted):
                users = tx.subject_versions_of_schema(referrer, include_deleted=include_deleted)
                if whole_subject and all(u.subject == subject for u in users):
                    continue  # the subject is going away together with its referrer
                where = ", ".join(f"{u.subject} v{u.version}" for u in users)
                raise ApiError(
                    422,
                    ErrorCode.REFERENCE_EXISTS,
                    f"Version {version} of subject '{subject}' is referenced by schema id "
                    f"{referrer} ({where}); delete those first.",
                )

    def delete_subject(self, subject: str, *, permanent: bool) -> list[int]:
        with self._store.write() as tx:
            self._require_writable(tx, subject)
            every = tx.versions(subject, include_deleted=True)
            if not every:
                raise subject_not_found(subject)
            live = [sv.version for sv in every if not sv.deleted]
            if permanent:
                if live:
                    raise ApiError(
                        404,
                        ErrorCode.SUBJECT_NOT_SOFT_DELETED,
                        f"Subject '{subject}' was not deleted first before being permanently "
                        "deleted",
                    )
                doomed = [sv.version for sv in every]
                self._check_unreferenced(
                    tx, subject, doomed, include_deleted=True, whole_subject=True
                )
                tx.hard_delete(subject, doomed)
                tx.delete_setting(subject, _COMPATIBILITY.key)
                tx.delete_setting(subject, _MODE.key)
            else:
                if not live:
                    raise ApiError(
                        404,
                        ErrorCode.SUBJECT_SOFT_DELETED,
                        # Confluent's wording, missing space included.
                        f"Subject '{subject}' was soft deleted.Set permanent=true to delete "
                        "permanently",
                    )
                doomed = live
                self._check_unreferenced(
                    tx, subject, doomed, include_deleted=False, whole_subject=True
                )
                tx.soft_delete(subject, doomed)
        log.info(
            "subject deleted",
            extra={"subject": subject, "versions": doomed, "permanent": permanent},
        )
        return doomed

    def delete_version(self, subject: str, version: int, *, permanent: bool) -> int:
        with self._store.write() as tx:
            self._require_writable(tx, subject)
            every = tx.versions(subject, include_deleted=True)
            if not every:
                raise subject_not_found(subject)
            if version == LATEST:
                pool = every if permanent else [sv for sv in every if not sv.deleted]
                found = pool[-1] if pool else None
            else:
                found = next((sv for sv in every if sv.version == version), None)
            if found is None:
                raise version_not_found("latest" if version == LATEST else version)
            if permanent:
                if not found.deleted:
                    raise ApiError(
                        404,
                        ErrorCode.VERSION_NOT_SOFT_DELETED,
                        f"Subject '{subject}' Version {found.version} was not deleted first "
                        "before being permanently deleted",
                    )
                self._check_unreferenced(
                    tx, subject, [found.version], include_deleted=True, whole_subject=False
                )
                tx.hard_delete(subject, [found.version])
            else:
                if found.deleted:
                    raise ApiError(
                        404,
                        ErrorCode.VERSION_SOFT_DELETED,
                        f"Subject '{subject}' Version {found.version} was soft deleted.Set "
                        "permanent=true to delete permanently",
                    )
                self._check_unreferenced(
                    tx, subject, [found.version], include_deleted=False, whole_subject=False
                )
                tx.soft_delete(subject, [found.version])
        log.info(
            "version deleted",
            extra={"subject": subject, "version": found.version, "permanent": permanent},
        )
        return found.version

    # ---- compatibility ---------------------------------------------------------------------

    def test_compatibility(
        self, subject: str, request: SchemaRequest, version: int | None, *, normalize: bool
    ) -> CompatibilityResult:
        """Check ``request`` against one version (or, with None, as a registration would)."""
        del normalize  # the avro objects compared are the same either way
        with self._store.read() as tx:
            live = tx.versions(subject, include_deleted=False)
            # As in Confluent: "latest" of a subject with no versions has nothing to be
            # incompatible with, while a numbered version must exist.
            if version is None:
                targets = live
            elif version == LATEST:
                targets = live[-1:]
            else:
                targets = [sv for sv in live if sv.version == version]
                if not targets:
                    raise version_not_found(version)
            parsed, _ = self._parse_request(tx, request)
            level = self._level(tx, subject)
            previous = [
                (sv.version, self._parse_stored(tx, self._schema(tx, sv.schema_id)).avro)
                for sv in targets
            ]
        problems = compatibility.check(level, parsed.avro, previous)
        return CompatibilityResult(is_compatible=not problems, messages=tuple(problems))

    def get_compatibility(
        self, subject: str | None, *, default_to_global: bool
    ) -> CompatibilityLevel:
        value = self._get_setting(subject, _COMPATIBILITY, default_to_global=default_to_global)
        return CompatibilityLevel(value) if value else DEFAULT_COMPATIBILITY

    def set_compatibility(self, subject: str | None, level: CompatibilityLevel) -> None:
        if subject is not None:
            validate_subject(subject)
        with self._store.write() as tx:
            tx.set_setting(subject or GLOBAL_SCOPE, _COMPATIBILITY.key, level.value)
        log.info("compatibility set", extra={"subject": subject, "level": level.value})

    def delete_compatibility(self, subject: str | None) -> CompatibilityLevel:
        value = self._delete_setting(subject, _COMPATIBILITY)
        log.info("compatibility reset", extra={"subject": subject})
        return CompatibilityLevel(value) if value else DEFAULT_COMPATIBILITY

    # ---- modes -----------------------------------------------------------------------------

    def get_mode(self, subject: str | None, *, default_to_global: bool) -> Mode:
        value = self._get_setting(subject, _MODE, default_to_global=default_to_global)
        return Mode(value) if value else DEFAULT_MODE

    def set_mode(self, subject: str | None, mode: Mode, *, force: bool) -> None:
        if subject is not None:
            validate_subject(subject)
        with self._store.write() as tx:
            scope = subject or GLOBAL_SCOPE
            current = tx.setting(scope, _MODE.key)
            if (
                mode is Mode.IMPORT
                and current != Mode.IMPORT.value
                and not force
                and tx.has_versions(subject)
            ):
                where = f"subject '{subject}'" if subject else "the registry"
                raise operation_not_permitted(
                    f"Cannot switch {where} to IMPORT mode: it already holds schemas, and an "
                    "import could collide with their ids. Pass force=true to do it anyway."
                )
            tx.set_setting(scope, _MODE.key, mode.value)
        log.info("mode set", extra={"subject": subject, "mode": mode.value})

    def delete_mode(self, subject: str | None) -> Mode:
        value = self._delete_setting(subject, _MODE)
        log.info("mode reset", extra={"subject": subject})
        return Mode(value) if value else DEFAULT_MODE

    # ---- settings shared by config and mode ------------------------------------------------

    def _get_setting(
        self, subject: str | None, setting: _Setting, *, default_to_global: bool
    ) -> str | None:
        """The subject's own value, else (if allowed) the registry's; None when neither is set."""
        with self._store.read() as tx:
            if subject is not None:
                value = tx.setting(subject, setting.key)
                if value is not None:
                    return value
                if not default_to_global:
                    raise setting.not_configured(subject)
            return tx.setting(GLOBAL_SCOPE, setting.key)

    def _delete_setting(self, subject: str | None, setting: _Setting) -> str | None:
        """Remove the subject's (or the registry's) value and return it; a subject must have one."""
        with self._store.write() as tx:
            scope = subject or GLOBAL_SCOPE
            value = tx.setting(scope, setting.key)
            if value is None and subject is not None:
                raise setting.not_configured(subject)
            tx.delete_setting(scope, setting.key)
        return value

    # ---- health ----------------------------------------------------------------------------

    def integrity_check(self) -> str:
        return self._store.integrity_check()
