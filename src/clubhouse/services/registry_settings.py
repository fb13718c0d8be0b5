"""``RegistrySettings``: how to reach a schema registry (URLs, credentials, TLS, timeouts),
shared by the confluent-backed client and the plain HTTP calls beside it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clubhouse.services.registry_urls import redact_url, registry_urls

BASIC_AUTH_ENV = "SCHEMA_REGISTRY_BASIC_AUTH"


@dataclass(frozen=True)
class RegistrySettings:
    """How to reach a schema registry. ``urls`` are tried in order (fail-over); one without
    a scheme (``localhost:8081``) is taken as ``http://``."""

    urls: Sequence[str]
    basic_auth: str | None = field(default=None, repr=False)  # "user:password"
    bearer_token: str | None = field(default=None, repr=False)
    bearer_logical_cluster: str = ""
    bearer_identity_pool: str | None = None
    ca_location: str | None = None
    certificate_location: str | None = None
    key_location: str | None = None
    key_password: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0
    max_retries: int = 3
    retry_wait_ms: int = 200
    retry_max_wait_ms: int = 5_000

    def __post_init__(self) -> None:
        # Frozen, so the normalized list is set the way dataclasses set fields themselves.
        object.__setattr__(self, "urls", registry_urls(self.urls))

    @classmethod
    def from_env(
        cls, urls: str | Sequence[str], environ: Mapping[str, str] | None = None, **kw: Any
    ) -> RegistrySettings:
        """Settings for ``urls`` with basic auth from ``SCHEMA_REGISTRY_BASIC_AUTH`` if unset."""
        env = os.environ if environ is None else environ
        if kw.get("basic_auth") is None and env.get(BASIC_AUTH_ENV):
            kw["basic_auth"] = env[BASIC_AUTH_ENV]
        return cls(urls=registry_urls(urls), **kw)

    @property
    def display_url(self) -> str:
        """The URLs with credentials removed, for logs and messages."""
        return ",".join(redact_url(u) for u in self.urls)

    def client_config(self) -> dict[str, Any]:
        """The confluent-kafka SchemaRegistryClient configuration for these settings."""
        if not self.urls:
            raise ValueError("no schema registry URL given")
        conf: dict[str, Any] = {
            "url": ",".join(self.urls),
            "timeout": self.timeout_s,
            "max.retries": self.max_retries,
            "retries.wait.ms": self.retry_wait_ms,
            "retries.max.wait.ms": self.retry_max_wait_ms,
        }
        if self.basic_auth:
            if ":" not in self.basic_auth:
                raise ValueError("basic auth must be given as user:password")
            conf["basic.auth.user.info"] = self.basic_auth
        if self.bearer_token:
            conf["bearer.auth.credentials.source"] = "STATIC_TOKEN"
            conf["bearer.auth.token"] = self.bearer_token
            conf["bearer.auth.logical.cluster"] = self.bearer_logical_cluster
            if self.bearer_identity_pool:
                conf["bearer.auth.identity.pool.id"] = self.bearer_identity_pool
        if self.ca_location:
            conf["ssl.ca.location"] = self.ca_location
        if self.certificate_location:
            conf["ssl.certificate.location"] = self.certificate_location
        if self.key_location:
            conf["ssl.key.location"] = self.key_location
        if self.key_password:
            conf["ssl.key.password"] = self.key_password
        return conf
