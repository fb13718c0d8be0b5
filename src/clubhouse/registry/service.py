"""The registry's semantics: ids, versions, deletes, compatibility, configs and modes.

Plain synchronous methods over a :class:`~clubhouse.registry.store.Store`, so tests and the
HTTP layer call the same code. Every decision that assigns an id or a version is taken inside
the store's write transaction (a group commit, shared with the writes that arrive beside it);
reads that can answer without writing (re-registering a schema the subject already has) are
served from a snapshot first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from clubhouse.avro import compatibility
from clubhouse.registry import canonical
from clubhouse.registry.configs import Configs
from clubhouse.registry.core import (
    LATEST,
    SUPPORTED_TYPES,
    Registered,
    SchemaRequest,
    VersionView,
    validate_subject,
)
from clubhouse.registry.deletes import Deletions
from clubhouse.registry.errors import (
    ApiError,
    ErrorCode,
    operation_not_permitted,
    schema_not_found,
    subject_not_found,
    version_not_found,
)
from clubhouse.registry.records import (
    Mode,
    StoredSchema,
    SubjectVersion,
)
from clubhouse.registry.store import Transaction
from clubhouse.services.kafka_protocol import CompatibilityResult

__all__ = [
    "LATEST",
    "SUPPORTED_TYPES",
    "PreparedRegistration",
    "Registered",
    "Registry",
    "SchemaRequest",
    "VersionView",
    "validate_subject",
]

log = logging.getLogger(__name__)


def _require_import_for_explicit(subject: str, mode: Mode, explicit: bool) -> None:
    if explicit and mode is not Mode.IMPORT:
        raise operation_not_permitted(
            f"Subject '{subject}' is in {mode.value} mode: a registration may carry an "
            "'id' or a 'version' only in IMPORT mode (used to restore backups)."
        )


@dataclass(frozen=True, slots=True)
class PreparedRegistration:
    """A new schema for a subject, parsed and checked outside the write lock.

    ``basis`` is what the check depended on (mode, level, live versions, references); the
    write transaction reuses the work only if it finds the same basis.
    """

    parsed: canonical.ParsedSchema
    resolved: tuple[canonical.ResolvedReference, ...]
    basis: tuple[object, ...]


class Registry(Deletions, Configs):
    """Confluent-compatible schema registry semantics on top of a store."""

    # ---- reading schemas -------------------------------------------------------------------

    def schema_by_id(self, schema_id: int) -> StoredSchema:
        """The schema registered under the global ``schema_id``; 40403 when there is none."""
        with self._store.read() as tx:
            stored = tx.schema(schema_id)
            if stored is None or not tx.subject_versions_of_schema(schema_id, include_deleted=True):
                raise schema_not_found(schema_id)
            return stored

    def versions_of_schema(
        self, schema_id: int, *, deleted: bool, subject: str | None = None
    ) -> list[SubjectVersion]:
        """Every ``(subject, version)`` that holds ``schema_id``."""
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
        """The versions of every subject under ``prefix`` (only the latest with ``latest_only``)."""
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
        """The subjects under ``prefix``, live ones unless ``deleted`` or ``deleted_only``."""
        with self._store.read() as tx:
            names = tx.subjects(include_deleted=deleted, deleted_only=deleted_only)
        return [name for name in names if name.startswith(prefix)]

    def versions(self, subject: str, *, deleted: bool, deleted_only: bool) -> list[int]:
        """The version numbers of ``subject``; 40401 when it has none."""
        with self._store.read() as tx:
            every = tx.versions(subject, include_deleted=True)
        live = [sv.version for sv in every if not sv.deleted]
        if not every or (not live and not (deleted or deleted_only)):
            raise subject_not_found(subject)
        if deleted_only:
            return [sv.version for sv in every if sv.deleted]
        return [sv.version for sv in every] if deleted else live

    def get_version(self, subject: str, version: int, *, deleted: bool) -> VersionView:
        """One version of ``subject`` (``LATEST`` for the latest); 40401 / 40402 when missing."""
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
        """The ids of the schemas that reference this version."""
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

    def work_chars(self, subject: str, request: SchemaRequest) -> int:
        """How much schema text serving ``request`` for ``subject`` may parse, in characters.

        The submitted schema plus every live version it may be checked against; this is
        what sorts requests into the parse pools' lanes before any parsing starts.
        """
        with self._store.read() as tx:
            return len(request.schema) + tx.live_schema_chars(subject)

    def prepare_registration(
        self, subject: str, request: SchemaRequest, *, normalize: bool
    ) -> Registered | PreparedRegistration:
        """Parse and check ``request`` against a snapshot: the answer if ``subject`` already
        has it live, else the work the write transaction needs (409 when incompatible).

        The parsing and checking happen here, without the write lock, so a large schema
        never holds up other subjects' writes while it is being checked.
        """
        validate_subject(subject)
        explicit = request.id is not None or request.version is not None
        with self._store.read() as tx:
            mode = self._require_writable(tx, subject)
            _require_import_for_explicit(subject, mode, explicit)
            parsed, resolved = self._parse_request(tx, request)
            if not explicit:
                text = parsed.normalized if normalize else parsed.canonical
                existing = self._pick(
                    tx.versions(subject, include_deleted=False),
                    tx.schema_ids_by_fingerprint(canonical.fingerprint(text, resolved)),
                )
                if existing is not None:
                    return Registered(existing.schema_id, existing.version)
            basis = self._basis(tx, subject, mode, resolved)
            if mode is not Mode.IMPORT:
                self._check_compatible(tx, subject, parsed)
        return PreparedRegistration(parsed, resolved, basis)

    def register(self, subject: str, request: SchemaRequest, *, normalize: bool) -> Registered:
        """Register ``request`` under ``subject``: its id and version, new or existing."""
        prepared = self.prepare_registration(subject, request, normalize=normalize)
        if isinstance(prepared, Registered):
            return prepared
        return self.commit_registration(subject, request, prepared, normalize=normalize)

    def commit_registration(
        self,
        subject: str,
        request: SchemaRequest,
        prepared: PreparedRegistration,
        *,
        normalize: bool,
    ) -> Registered:
        """Register what :meth:`prepare_registration` prepared, in a group commit: the
        answer comes once the commit holding it is on disk."""
        registered, created = self._store.write_grouped(
            lambda tx: self._register_locked(tx, subject, request, prepared, normalize=normalize)
        )
        if created:
            log.info(
                "schema registered",
                extra={
                    "subject": subject,
                    "version": registered.version,
                    "schema_id": registered.id,
                },
            )
        return registered

    def _basis(
        self,
        tx: Transaction,
        subject: str,
        mode: Mode,
        resolved: tuple[canonical.ResolvedReference, ...],
    ) -> tuple[object, ...]:
        live = tuple(
            (sv.version, sv.schema_id) for sv in tx.versions(subject, include_deleted=False)
        )
        return (mode, self._level(tx, subject), live, resolved)

    def _check_compatible(
        self, tx: Transaction, subject: str, parsed: canonical.ParsedSchema
    ) -> None:
        """409 in Confluent's wording when ``parsed`` breaks ``subject``'s level."""
        level = self._level(tx, subject)
        previous = [
            (sv.version, self._parse_stored(tx, self._schema(tx, sv.schema_id)).avro)
            for sv in tx.versions(subject, include_deleted=False)
        ]
        problems = compatibility.check(level, parsed.avro, previous)
        if problems:
            raise ApiError(
                409,
                ErrorCode.INCOMPATIBLE_SCHEMA,
                # Confluent's wording; each problem already starts with the level's name.
                "Schema being registered is incompatible with an earlier schema for "
                f'subject "{subject}", details: [' + ", ".join(problems) + "]",
            )

    def _register_locked(
        self,
        tx: Transaction,
        subject: str,
        request: SchemaRequest,
        prepared: PreparedRegistration,
        *,
        normalize: bool,
    ) -> tuple[Registered, bool]:
        """The registration and whether it added a version; only ``tx`` is used, since this
        runs inside a group commit shared with other writes."""
        mode = self._require_writable(tx, subject)
        _require_import_for_explicit(
            subject, mode, request.id is not None or request.version is not None
        )
        resolved = self._resolve(tx, request.references)
        unchanged = self._basis(tx, subject, mode, resolved) == prepared.basis
        # Another writer changed the subject since the snapshot (rare): parse and check again.
        parsed = prepared.parsed if unchanged else self._parse_request(tx, request)[0]
        text = parsed.normalized if normalize else parsed.canonical
        fingerprint = canonical.fingerprint(text, resolved)
        normalized_fingerprint = canonical.fingerprint(parsed.normalized, resolved)
        same_ids = tx.schema_ids_by_fingerprint(fingerprint)
        live = tx.versions(subject, include_deleted=False)
        if request.version is None:
            existing = self._pick(live, same_ids)
            if existing is not None and (request.id is None or request.id == existing.schema_id):
                return Registered(existing.schema_id, existing.version), False

        if mode is not Mode.IMPORT and not unchanged:
            self._check_compatible(tx, subject, parsed)

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
                    return Registered(schema_id, taken.version), False
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
        return Registered(schema_id, version), True

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

    # ---- health ----------------------------------------------------------------------------

    def integrity_check(self) -> str:
        """SQLite's integrity check of the store ("ok" when sound)."""
        return self._store.integrity_check()
