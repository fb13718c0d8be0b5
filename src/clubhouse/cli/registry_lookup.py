"""The schema registry of a one-shot client command: its look-ups on ``http.client``, the
rest (and every answer out of the ordinary) on ``ConfluentSchemaRegistry``.

A ``clubhouse send`` asks the registry for nothing but the ids of its catalog's schemas,
and perhaps a schema by id. Importing confluent-kafka's registry client (authlib, joserfc,
httpx) and building it (two CA bundles loaded) cost a send more CPU than all the rest of
its start-up. So the answers a registry gives in its own JSON (an id, a schema, 404 for a
schema it does not hold, a refusal such as 401) are read here, a refusal raised as
``ConfluentSchemaRegistry`` raises it; anything else (a status confluent's client retries,
a connection that fails, a body that is not the registry's JSON) sends the same request
again through the full client, whose retries, fail-over and error messages are then
exactly those of the other commands. A look-up only reads, so asking twice changes nothing.

Given the subjects' prefix, the first look-up lists the latest schema of every subject under
it in one request (``GET /schemas``, as ``get_latest_schemas`` does), and a look-up whose
schema is that same JSON is answered from the list: one round trip instead of one per model
(14 for the built-in catalog), on the registry's CPU as much as on ours. Any other look-up
asks the registry as above.

Settings the plain path does not handle keep the full client from the start: TLS, bearer
tokens, credentials in the URL, a proxy from the environment.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, NoReturn, Protocol, Self
from urllib.parse import quote, urlsplit

from clubhouse.services.kafka_protocol import (
    CompatibilityLevel,
    CompatibilityResult,
    RegisteredSchema,
    SchemaRegistryProtocol,
)
from clubhouse.services.registry_errors import NotFoundError, RegistryError, error_for

if TYPE_CHECKING:
    from clubhouse.services.registry_settings import RegistrySettings

_ACCEPT = "application/vnd.schemaregistry.v1+json, application/json"
_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
# httpx, under confluent's client, sends an http:// request through the proxy these name.
_PROXY_VARIABLES = frozenset({"http_proxy", "all_proxy"})
# Statuses confluent's client retries, and its error code for an answer that is not JSON.
_RETRIED = frozenset({408, 429, 500, 502, 503, 504})
_NOT_JSON = -1


class ClosableRegistry(SchemaRegistryProtocol, Protocol):
    """A registry client that holds connections until closed."""

    def close(self) -> None:
        """Release its connections."""
        ...


class _Unusual(Exception):
    """The plain path got an answer it leaves to the full client."""


def one_shot_registry(
    settings: RegistrySettings, *, subject_prefix: str | None = None
) -> ClosableRegistry:
    """The registry client for a short-lived command that looks up subjects starting with
    ``subject_prefix``; invalid settings raise RegistryError, as
    ``ConfluentSchemaRegistry.from_settings`` does."""
    if not plain_http(settings):
        return _full_client(settings)
    try:
        settings.client_config()  # the checks from_settings would make, in its words
    except ValueError as exc:
        raise RegistryError(f"invalid schema registry settings: {exc}") from exc
    return PlainLookups(settings, lambda: _full_client(settings), subject_prefix=subject_prefix)


def plain_http(settings: RegistrySettings, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``PlainLookups`` can speak for these settings: plain http:// URLs, no
    credentials in them, no TLS files, no bearer token, no proxy from the environment."""
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in env if name.lower() in _PROXY_VARIABLES):
        return False
    if settings.bearer_token or settings.ca_location or settings.certificate_location:
        return False
    if settings.key_location or not settings.urls:
        return False
    for url in settings.urls:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or parts.query or parts.fragment:
            return False
        if parts.username is not None or parts.password is not None:
            return False
    return True


def _full_client(settings: RegistrySettings) -> ClosableRegistry:
    from clubhouse.services.schema_registry import (  # noqa: PLC0415 - the slow import
        ConfluentSchemaRegistry,
    )

    return ConfluentSchemaRegistry.from_settings(settings)


class PlainLookups:
    """``lookup`` and ``get_schema`` over plain HTTP to the first URL; every other call, and
    every answer besides the usual ones, through the full client made by ``full``.

    Thread-safe: each request has its own connection, and the full client is made once.
    """

    def __init__(
        self,
        settings: RegistrySettings,
        full: Callable[[], ClosableRegistry],
        *,
        subject_prefix: str | None = None,
    ) -> None:
        parts = urlsplit(settings.urls[0])
        self._host = parts.hostname or ""
        self._port = parts.port
        self._path = parts.path.rstrip("/")
        self._timeout = settings.timeout_s
        self._where = settings.display_url
        self._headers = {"Accept": _ACCEPT}
        if settings.basic_auth:
            token = base64.b64encode(settings.basic_auth.encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        self._make_full = full
        self._full: ClosableRegistry | None = None
        self._lock = threading.Lock()
        self._prefix = subject_prefix
        # subject -> (schema as canonical JSON, id, version) of its latest versions; listed once.
        self._latest: dict[str, list[tuple[str, int, int]]] | None = None
        self._latest_lock = threading.Lock()

    def close(self) -> None:
        """Close the full client, if one was needed."""
        with self._lock:
            full, self._full = self._full, None
        if full is not None:
            full.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- read here ---------------------------------------------------------------------------
    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        """The version of ``subject`` holding ``schema``; None when it is not registered there."""
        listed = self._listed(subject, schema)
        if listed is not None:
            return listed
        # The request confluent's lookup_schema makes.
        path = f"/subjects/{quote(subject, safe='')}?normalize=False&deleted=False"
        body = {"schema": schema, "schemaType": "AVRO", "references": []}
        try:
            status, answer = self._request("POST", path, body)
            if status != 200:
                self._raise_refusal(f"look up {subject}", status, answer)
            schema_id = answer.get("id") if isinstance(answer, dict) else None
            version = answer.get("version") if isinstance(answer, dict) else None
            if not isinstance(schema_id, int) or not isinstance(version, int | None):
                raise _Unusual
        except NotFoundError:
            return None
        except _Unusual:
            return self.full().lookup(subject, schema)
        return RegisteredSchema(subject, int(version or 0), int(schema_id), schema)

    def get_schema(self, schema_id: int) -> str:
        """The schema text with id ``schema_id``."""
        try:
            status, answer = self._request("GET", f"/schemas/ids/{schema_id}")
            if status != 200:
                self._raise_refusal(f"get schema id {schema_id}", status, answer)
            text = answer.get("schema") if isinstance(answer, dict) else None
            if not isinstance(text, str):
                raise _Unusual
        except _Unusual:
            return self.full().get_schema(schema_id)
        return text

    def _raise_refusal(self, action: str, status: int, answer: Any) -> NoReturn:
        """The registry's own refusal (a JSON error, and a status not worth retrying) as
        ConfluentSchemaRegistry raises it; ``_Unusual`` for anything else.

        Raised here, not asked again: confluent's client would not retry these either, and
        a wrong password tried twice per look-up trips a registry's login throttle sooner.
        """
        code = answer.get("error_code") if isinstance(answer, dict) else None
        message = answer.get("message") if isinstance(answer, dict) else None
        if status in _RETRIED or not isinstance(code, int) or code == _NOT_JSON:
            raise _Unusual
        if not isinstance(message, str):
            raise _Unusual
        raise error_for(action, self._where, status, code, message)

    def _listed(self, subject: str, schema: str) -> RegisteredSchema | None:
        """``subject``'s latest version when it holds ``schema``, from the one listing."""
        if self._prefix is None or not subject.startswith(self._prefix):
            return None
        with self._latest_lock:
            if self._latest is None:
                self._latest = self._list_latest(self._prefix)
            latest = self._latest.get(subject)
        if not latest:
            return None
        try:
            wanted = _canonical(schema)
        except ValueError:
            return None
        for text, schema_id, version in latest:
            if text == wanted:
                return RegisteredSchema(subject, version, schema_id, schema)
        return None

    def _list_latest(self, prefix: str) -> dict[str, list[tuple[str, int, int]]]:
        """The latest versions under ``prefix``; none at all when the answer is unusual, so
        that each look-up asks for itself."""
        path = f"/schemas?subjectPrefix={quote(prefix, safe='')}&latestOnly=true"
        try:
            status, answer = self._request("GET", path)
        except _Unusual:
            return {}
        if status != 200 or not isinstance(answer, list):
            return {}
        found: dict[str, list[tuple[str, int, int]]] = {}
        for entry in answer:
            if not isinstance(entry, dict):
                continue
            subject, text = entry.get("subject"), entry.get("schema")
            schema_id, version = entry.get("id"), entry.get("version")
            if not (isinstance(subject, str) and isinstance(text, str)):
                continue
            if not (isinstance(schema_id, int) and isinstance(version, int)):
                continue
            if entry.get("schemaType", "AVRO") != "AVRO":
                continue
            try:
                found.setdefault(subject, []).append((_canonical(text), schema_id, version))
            except ValueError:
                continue
        return found

    def _request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """The status and decoded JSON body of one request; ``_Unusual`` when either
        the connection or the JSON fails."""
        headers = dict(self._headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = _CONTENT_TYPE
        connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        try:
            connection.request(method, self._path + path, body=data, headers=headers)
            response = connection.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise _Unusual from exc
        finally:
            connection.close()
        try:
            return status, json.loads(raw)
        except ValueError as exc:
            raise _Unusual from exc

    # -- through the full client --------------------------------------------------------------
    def full(self) -> ClosableRegistry:
        """The full registry client, made on first use."""
        with self._lock:
            if self._full is None:
                self._full = self._make_full()
            return self._full

    def register(self, subject: str, schema: str) -> RegisteredSchema:
        """Register ``schema`` under ``subject``, through the full client."""
        return self.full().register(subject, schema)

    def get_latest(self, subject: str) -> RegisteredSchema | None:
        """The latest live version of ``subject``, through the full client."""
        return self.full().get_latest(subject)

    def get_version(self, subject: str, version: int) -> RegisteredSchema:
        """One version of ``subject``, through the full client."""
        return self.full().get_version(subject, version)

    def get_versions(self, subject: str) -> list[int]:
        """The live versions of ``subject``, through the full client."""
        return self.full().get_versions(subject)

    def get_latest_schemas(self, subject_prefix: str) -> list[RegisteredSchema]:
        """The latest version of each subject under a prefix, through the full client."""
        return self.full().get_latest_schemas(subject_prefix)

    def get_subjects(self) -> list[str]:
        """The live subjects, through the full client."""
        return self.full().get_subjects()

    def get_compatibility(self, subject: str | None = None) -> CompatibilityLevel:
        """The level of ``subject`` or the global one, through the full client."""
        return self.full().get_compatibility(subject)

    def set_compatibility(self, level: CompatibilityLevel, subject: str | None = None) -> None:
        """Set a level, through the full client."""
        self.full().set_compatibility(level, subject)

    def test_compatibility(
        self, subject: str, schema: str, version: int | Literal["latest", "all"] = "latest"
    ) -> CompatibilityResult:
        """Whether ``schema`` may join ``subject``, through the full client."""
        return self.full().test_compatibility(subject, schema, version)


def _canonical(schema: str) -> str:
    """``schema`` as JSON with sorted keys: the registry keeps a schema's content, not the
    order of its keys. ``json.dumps`` keeps ``true`` apart from ``1``, as ``==`` would not."""
    return json.dumps(json.loads(schema), sort_keys=True, separators=(",", ":"))
