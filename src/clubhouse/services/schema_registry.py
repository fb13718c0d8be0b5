"""``ConfluentSchemaRegistry``: SchemaRegistryProtocol on confluent-kafka's SchemaRegistryClient.

The same class talks to Confluent Schema Registry and to Clubhouse's embedded registry. Auth,
TLS, timeouts, retries with backoff and URL fail-over are the client's; this module maps its
answers onto Clubhouse's types and its failures onto typed errors. The few calls the
client's public API lacks go through ``RegistryHttp``, built from the same settings.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote

import httpx
from confluent_kafka.schema_registry import (
    Schema,
    SchemaRegistryClient,
    SchemaRegistryError,
)

from clubhouse.retry import RetryPolicy
from clubhouse.services.kafka_protocol import (
    COMPATIBILITY_LEVELS,
    CompatibilityLevel,
    CompatibilityResult,
    RegisteredSchema,
    SchemaRegistryProtocol,
)
from clubhouse.services.registry_errors import (
    AUTH_STATUSES,
    NotARegistryError,
    NotFoundError,
    RegistryError,
    RegistryUnreachableError,
    error_for,
    not_a_registry,
)
from clubhouse.services.registry_http import RegistryHttp
from clubhouse.services.registry_settings import RegistrySettings

log = logging.getLogger(__name__)
T = TypeVar("T")


def _transport_errors() -> tuple[type[Exception], ...]:
    """The connection errors confluent's client raises: its HTTP library is ``httpx2`` in
    recent releases and ``httpx`` before, both public packages."""
    errors: list[type[Exception]] = [httpx.TransportError]
    try:
        import httpx2  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
    except ImportError:
        pass
    else:
        errors.append(httpx2.TransportError)
    return tuple(errors)


_TRANSPORT_ERRORS = _transport_errors()

class ConfluentSchemaRegistry:
    """SchemaRegistryProtocol backed by ``confluent_kafka.schema_registry.SchemaRegistryClient``.

    As a context manager it closes its connections on exit.
    """

    def __init__(
        self,
        client: SchemaRegistryClient,
        *,
        http: RegistryHttp | None = None,
        display_url: str = "the schema registry",
    ) -> None:
        self._client = client
        self._http = http
        self._where = display_url

    @classmethod
    def from_settings(cls, settings: RegistrySettings) -> ConfluentSchemaRegistry:
        """A registry client for ``settings``; invalid settings raise ``RegistryError``."""
        try:
            client = SchemaRegistryClient(settings.client_config())
            http = RegistryHttp(settings)
        except (ValueError, TypeError, OSError) as exc:
            raise RegistryError(f"invalid schema registry settings: {exc}") from exc
        return cls(client, http=http, display_url=settings.display_url)

    @property
    def display_url(self) -> str:
        """Where this client points, without credentials, for messages."""
        return self._where

    def close(self) -> None:
        """Release the HTTP connections."""
        closer = getattr(self._client, "close", None)
        if callable(closer):
            closer()
        else:
            # Older confluent-kafka releases (the 2.13 floor) have no close(); leaving the
            # client's context is what closes its session there.
            self._client.__exit__(None, None, None)  # type: ignore[no-untyped-call,unused-ignore]
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- SchemaRegistryProtocol ------------------------------------------------------------------
    def register(self, subject: str, schema: str) -> RegisteredSchema:
        """Register and return id and, when the registry says it, the version (else 0)."""
        result = self._call(
            f"register {subject}",
            lambda: self._client.register_schema_full_response(subject, Schema(schema, "AVRO")),
        )
        return RegisteredSchema(subject, result.version or 0, int(result.schema_id or 0), schema)

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        """The version of ``subject`` holding ``schema``; None when it is not registered there."""
        try:
            result = self._call(
                f"look up {subject}",
                lambda: self._client.lookup_schema(subject, Schema(schema, "AVRO")),
            )
        except NotFoundError:
            return None
        return RegisteredSchema(
            subject, int(result.version or 0), int(result.schema_id or 0), schema
        )

    def get_schema(self, schema_id: int) -> str:
        """The schema text with id ``schema_id``."""
        result = self._call(
            f"get schema id {schema_id}", lambda: self._client.get_schema(schema_id)
        )
        return str(result.schema_str)

    def get_latest(self, subject: str) -> RegisteredSchema | None:
        """The latest live version of ``subject``, past the client's cache; None if it has none."""
        # Go to the REST client: the high-level call caches "latest" and would hide new versions.
        try:
            raw = self._rest("GET", f"subjects/{_q(subject)}/versions/latest", what=subject)
        except NotFoundError:
            return None
        return _registered(raw)

    def get_version(self, subject: str, version: int) -> RegisteredSchema:
        """Version ``version`` of ``subject``, read from the registry itself."""
        raw = self._rest("GET", f"subjects/{_q(subject)}/versions/{version}", what=subject)
        return _registered(raw)

    def get_versions(self, subject: str) -> list[int]:
        """The live version numbers of ``subject``; empty when the subject is unknown."""
        try:
            return [int(v) for v in self._rest("GET", f"subjects/{_q(subject)}/versions")]
        except NotFoundError:
            return []

    def get_latest_schemas(self, subject_prefix: str) -> list[RegisteredSchema]:
        """The latest version of every subject starting with ``subject_prefix``, in one request."""
        if _is_in_memory_mock(self._client):
            # confluent's in-memory mock has the high-level calls but no HTTP transport.
            subjects = [s for s in self.get_subjects() if s.startswith(subject_prefix)]
            latest = [self._client.get_latest_version(s) for s in subjects]
            return [
                RegisteredSchema(r.subject or "", r.version or 0, r.schema_id or 0,
                                 str(r.schema.schema_str))
                for r in latest
            ]  # fmt: skip
        # GET /schemas (Confluent Platform 6+, and ours) answers for every subject at once.
        found = self._rest(
            "GET",
            f"schemas?subjectPrefix={quote(subject_prefix, safe='')}&latestOnly=true",
            what=f"list schemas under {subject_prefix!r}",
        )
        return [_registered(raw) for raw in found]

    def get_subjects(self) -> list[str]:
        """The registry's live subjects."""
        return [str(s) for s in self._call("list subjects", self._client.get_subjects)]

    def get_compatibility(self, subject: str | None = None) -> CompatibilityLevel:
        """The level of ``subject`` (else the global one), or the global level when None."""
        path = "config" if subject is None else f"config/{_q(subject)}?defaultToGlobal=true"
        raw = self._rest("GET", path, what=subject or "global config")
        level = str(raw.get("compatibilityLevel") or raw.get("compatibility") or "").upper()
        if level not in COMPATIBILITY_LEVELS:
            raise RegistryError(f"{self._where} answered an unknown compatibility level {level!r}")
        return CompatibilityLevel(level)

    def set_compatibility(self, level: CompatibilityLevel, subject: str | None = None) -> None:
        """Set the level of ``subject``, or the global level when None."""
        self._call(
            f"set compatibility of {subject or 'global config'}",
            lambda: self._client.set_compatibility(subject_name=subject, level=level),
        )

    def test_compatibility(
        self, subject: str, schema: str, version: int | Literal["latest", "all"] = "latest"
    ) -> CompatibilityResult:
        """Whether ``schema`` may join ``subject``, checked against ``version``, and why not."""
        # The high-level client returns only the boolean; the reasons need the raw answer.
        suffix = "versions" if version == "all" else f"versions/{version}"
        try:
            raw = self._rest(
                "POST",
                f"compatibility/subjects/{_q(subject)}/{suffix}?verbose=true",
                body={"schema": schema, "schemaType": "AVRO"},
                what=subject,
            )
        except NotFoundError:
            return CompatibilityResult(True, ("subject has no versions yet",))
        messages = raw.get("messages") or []
        return CompatibilityResult(bool(raw.get("is_compatible")), tuple(str(m) for m in messages))

    # -- plumbing ----------------------------------------------------------------------------------
    def _rest(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, what: str = ""
    ) -> Any:
        if self._http is None:
            raise RegistryError(
                f"{what or path}: this registry client was made without a RegistryHttp; "
                "build it with ConfluentSchemaRegistry.from_settings"
            )
        return self._http.call(method, "/" + path, body=body)

    def _call(self, action: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except SchemaRegistryError as exc:
            status = exc.http_status_code
            # UNKNOWN: confluent's code for an answer whose body is not a registry's JSON.
            if exc.error_code != SchemaRegistryError.UNKNOWN:
                raise error_for(
                    action, self._where, status, exc.error_code, exc.error_message
                ) from exc
            if status in AUTH_STATUSES:
                raise error_for(
                    action, self._where, status, None, "the answer is not JSON"
                ) from exc
            raise self._not_a_registry(action, f"HTTP {status}") from exc
        except json.JSONDecodeError as exc:  # a success status, and a body that is not JSON
            raise self._not_a_registry(action, "a success status") from exc
        except _TRANSPORT_ERRORS as exc:
            raise RegistryUnreachableError(
                f"cannot reach the schema registry at {self._where} to {action}: "
                f"{type(exc).__name__}: {exc or 'no answer'}. Check --schema-registry-url / "
                "SCHEMA_REGISTRY_URL and that the registry is running"
            ) from exc

    def _not_a_registry(self, action: str, answered: str) -> RegistryError:
        """The error for an answer that is not a registry's JSON, with its content type.

        confluent's error keeps only the status and the raw body; asking once more through
        RegistryHttp, which sees the headers, names the content type instead.
        """
        if self._http is not None:
            try:
                self._http.call("GET", "/subjects")
            except NotARegistryError as exc:
                return exc
            except RegistryError:
                pass
        return not_a_registry(self._where, f"{action} answered {answered}, and not with JSON")


def _is_in_memory_mock(client: SchemaRegistryClient) -> bool:
    # Matched by name: the mock lives in a private module of confluent-kafka.
    return any(c.__name__ == "MockSchemaRegistryClient" for c in type(client).__mro__)


def _q(subject: str) -> str:
    return quote(subject, safe="")


def _registered(raw: Mapping[str, Any]) -> RegisteredSchema:
    return RegisteredSchema(
        subject=str(raw["subject"]),
        version=int(raw["version"]),
        schema_id=int(raw["id"]),
        schema=str(raw["schema"]),
    )


def wait_for_registry(
    registry: SchemaRegistryProtocol,
    timeout_s: float,
    *,
    interval_s: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] | None = None,
) -> None:
    """Return once ``registry`` answers; keep trying for ``timeout_s`` while it is unreachable.

    Deployments often start the registry beside the application, so the first connection
    may be refused for a while. Any other error (bad credentials, say) is raised at once.
    """
    policy = RetryPolicy(first_s=interval_s, max_s=interval_s, deadline_s=max(0.0, timeout_s))
    backoff = policy.backoff(clock=clock, sleep=sleep)
    while True:
        try:
            registry.get_subjects()
            return
        except RegistryUnreachableError:
            if not backoff.wait():
                raise
            log.info("waiting for the schema registry", extra={"attempt": backoff.attempts})
