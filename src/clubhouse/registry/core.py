"""The registry's shared ground: request and answer types, subject rules, and the core the
operations build on (schema parsing with its cache, reference resolution, effective levels
and modes).

``Registry`` (``service.py``) is assembled from the operations in ``service.py``,
``deletes.py`` and ``configs.py``, each a subclass of ``RegistryCore``.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clubhouse.avro.compatibility import CompatibilityLevel
from clubhouse.registry import canonical
from clubhouse.registry.errors import (
    ApiError,
    ErrorCode,
    invalid_schema,
    operation_not_permitted,
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
class Setting:
    """A per-subject setting with a registry-wide fallback, and how error messages name it."""

    key: str
    missing: ErrorCode  # the error code when a subject has no value of its own
    name: str  # "compatibility", as Confluent's message names it

    def effective(self, tx: Transaction, subject: str) -> str | None:
        """The subject's own value, else the registry-wide one; None when neither is set."""
        return tx.setting(subject, self.key) or tx.setting(GLOBAL_SCOPE, self.key)

    def not_configured(self, subject: str) -> ApiError:
        """Confluent's 404 for a subject without a value of its own."""
        message = f"Subject '{subject}' does not have subject-level {self.name} configured"
        return ApiError(404, self.missing, message)


COMPATIBILITY_SETTING = Setting(
    "compatibility", ErrorCode.SUBJECT_COMPATIBILITY_NOT_CONFIGURED, "compatibility"
)
MODE_SETTING = Setting("mode", ErrorCode.SUBJECT_MODE_NOT_CONFIGURED, "mode")
# Part of a subject's config, beside its compatibility level (stored as "true" / "false").
NORMALIZE_SETTING = Setting(
    "normalize", ErrorCode.SUBJECT_COMPATIBILITY_NOT_CONFIGURED, "compatibility"
)


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
    # Case matters, as in Confluent: "avro" is not a schema type.
    if schema_type not in SUPPORTED_TYPES:
        raise invalid_schema(
            f"schemaType {json.dumps(schema_type)} is not supported: this registry supports "
            "only AVRO (schema types are case-sensitive)."
        )


def _text_size(references: Sequence[canonical.ResolvedReference]) -> int:
    return sum(len(ref.schema) + _text_size(ref.dependencies) for ref in references)


SchemaParser = Callable[..., canonical.ParsedSchema]
"""``canonical.parse``'s signature: (text, references, *, max_fields) -> ParsedSchema."""


class RegistryCore:
    """The store, the parse cache and the helpers every registry operation uses.

    ``max_schema_fields`` is the work budget of one request (``canonical.DEFAULT_MAX_FIELDS``);
    schemas already stored are parsed without it, so lowering it never locks a subject.
    ``parse`` is ``canonical.parse`` unless a test needs to observe or hold it.
    """

    def __init__(
        self,
        store: Store,
        *,
        parse_cache_size: int = 4096,
        max_schema_fields: int = canonical.DEFAULT_MAX_FIELDS,
        parse: SchemaParser = canonical.parse,
    ) -> None:
        self._store = store
        self._max_fields = max_schema_fields
        self._parse_uncached = parse
        # Parsing Avro dominates lookups and compatibility checks; results depend only on
        # the text and the content of the references, which together form the cache key.
        self._parse_cached = functools.lru_cache(maxsize=parse_cache_size)(parse)

    def _parse(
        self,
        text: str,
        references: tuple[canonical.ResolvedReference, ...],
        max_fields: int | None = None,
    ) -> canonical.ParsedSchema:
        # Only small schemas are cached, so the cache's memory stays bounded (entries times
        # 64 KiB) whatever size of schemas clients send.
        size = len(text) + _text_size(references)
        if size > _CACHED_SCHEMA_CHARS:
            return self._parse_uncached(text, references, max_fields=max_fields)
        return self._parse_cached(text, references, max_fields=max_fields)

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
        return self._parse(request.schema, resolved, self._max_fields), resolved

    def _parse_stored(self, tx: Transaction, schema: StoredSchema) -> canonical.ParsedSchema:
        return self._parse(schema.schema, self._resolve(tx, schema.references))

    def _schema(self, tx: Transaction, schema_id: int) -> StoredSchema:
        stored = tx.schema(schema_id)
        if stored is None:  # versions reference schemas by foreign key, so this is a bug
            raise RuntimeError(f"schema id {schema_id} is used by a version but is missing")
        return stored

    @staticmethod
    def _level(tx: Transaction, subject: str) -> CompatibilityLevel:
        value = COMPATIBILITY_SETTING.effective(tx, subject)
        return CompatibilityLevel(value) if value else DEFAULT_COMPATIBILITY

    @staticmethod
    def _mode(tx: Transaction, subject: str) -> Mode:
        value = MODE_SETTING.effective(tx, subject)
        return Mode(value) if value else DEFAULT_MODE

    @staticmethod
    def _require_writable(tx: Transaction, subject: str) -> Mode:
        mode = RegistryCore._mode(tx, subject)
        if mode is Mode.READONLY:
            raise operation_not_permitted(
                f"Subject '{subject}' is in READONLY mode; change the mode to write to it."
            )
        return mode

    @staticmethod
    def _pick(versions: Sequence[SubjectVersion], ids: Sequence[int]) -> SubjectVersion | None:
        wanted = set(ids)
        return next((sv for sv in versions if sv.schema_id in wanted), None)
