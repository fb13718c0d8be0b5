"""``RegistryHttp``: the one small httpx client for what confluent-kafka's public
``SchemaRegistryClient`` does not offer.

That is: compatibility answers with their reasons (``verbose=true``), latest versions that
no client-side cache can hide, a subject's level with ``defaultToGlobal``, every latest
schema in one request, and the modes, IMPORT registrations and soft deletes that backup and
restore need. It takes the same ``RegistrySettings`` as the confluent client, so every
tool has the same connection options: fail-over URLs, basic auth or a static bearer token
(with logical cluster and identity pool), TLS with a CA bundle and a client certificate,
a timeout, and retries with backoff on transient answers (408, 429, 502, 503, 504).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self

import httpx

from clubhouse.services.registry_errors import (
    AUTH_STATUSES,
    RegistryUnreachableError,
    error_for,
    not_a_registry,
)
from clubhouse.services.registry_urls import redact_url

if TYPE_CHECKING:
    from clubhouse.services.registry_settings import RegistrySettings

_ACCEPT = "application/vnd.schemaregistry.v1+json, application/json"
_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})


class RegistryHttp:
    """JSON calls to a Confluent-compatible registry; errors are ``registry_errors`` types."""

    def __init__(
        self,
        settings: RegistrySettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.urls:
            raise ValueError("no schema registry URL given")
        self._settings = settings
        self._sleep = sleep
        self._client = httpx.Client(
            auth=_basic_auth(settings.basic_auth),
            headers=_headers(settings),
            verify=_tls(settings),
            timeout=settings.timeout_s,
            transport=transport,
        )

    @property
    def display_url(self) -> str:
        """The registry URLs with credentials removed, for logs and messages."""
        return self._settings.display_url

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        missing: frozenset[int] = frozenset(),
    ) -> Any:
        """The decoded JSON answer of ``method path``; None when the registry's error code is
        one of ``missing``. Each URL is tried in turn while none can be reached."""
        action = f"{method} {path}"
        attempts = self._settings.max_retries + 1
        last: Exception | None = None
        for attempt in range(attempts):
            for base in self._settings.urls:
                try:
                    response = self._client.request(
                        method, base.rstrip("/") + path, params=params, json=body
                    )
                except httpx.TransportError as exc:
                    last = exc
                    continue
                if response.status_code in _RETRY_STATUSES and attempt + 1 < attempts:
                    break
                return self._decode(response, action, missing, base)
            if attempt + 1 < attempts:
                wait_ms = min(
                    self._settings.retry_wait_ms * 2**attempt, self._settings.retry_max_wait_ms
                )
                self._sleep(wait_ms / 1000)
        raise RegistryUnreachableError(
            f"cannot reach the schema registry at {self.display_url} to {action}: "
            f"{type(last).__name__}: {last or 'no answer'}. Check --schema-registry-url / "
            "SCHEMA_REGISTRY_URL and that the registry is running"
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _decode(
        self, response: httpx.Response, action: str, missing: frozenset[int], base: str
    ) -> Any:
        status = response.status_code
        try:
            data = response.json() if response.content else None
        except ValueError:
            # A registry answers JSON even for its errors; a page is someone else's, and its
            # bytes would only bury the message.
            content_type = response.headers.get("content-type") or "none"
            if status not in AUTH_STATUSES:
                raise not_a_registry(
                    redact_url(base),
                    f"{action} answered HTTP {status}, content type {content_type}",
                    status,
                ) from None
            raise error_for(
                action, self.display_url, status, None, f"a {content_type} answer, not JSON"
            ) from None
        if response.is_success:
            return data
        code = data.get("error_code") if isinstance(data, dict) else None
        if code in missing:
            return None
        message = data.get("message") if isinstance(data, dict) else response.text[:200]
        raise error_for(
            action, self.display_url, status,
            code if isinstance(code, int) else None, str(message),
        )  # fmt: skip


def _basic_auth(user_info: str | None) -> httpx.BasicAuth | None:
    if not user_info:
        return None
    user, sep, password = user_info.partition(":")
    if not sep:
        raise ValueError("basic auth must be given as user:password")
    return httpx.BasicAuth(user, password)


def _headers(settings: RegistrySettings) -> dict[str, str]:
    headers = {"Accept": _ACCEPT, "Content-Type": _CONTENT_TYPE}
    if settings.bearer_token:
        # The same headers confluent-kafka's client sends with a static token.
        headers["Authorization"] = f"Bearer {settings.bearer_token}"
        headers["target-sr-cluster"] = settings.bearer_logical_cluster
        if settings.bearer_identity_pool:
            headers["Confluent-Identity-Pool-Id"] = settings.bearer_identity_pool
    return headers


def _tls(settings: RegistrySettings) -> ssl.SSLContext | bool:
    if not (settings.ca_location or settings.certificate_location):
        return True
    context = ssl.create_default_context(cafile=settings.ca_location)
    if settings.certificate_location:
        context.load_cert_chain(
            settings.certificate_location, settings.key_location, settings.key_password
        )
    return context
