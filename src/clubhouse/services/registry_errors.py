"""Typed schema-registry errors; each message says what went wrong and what to do next."""

from __future__ import annotations

from clubhouse.errors import ClubhouseError


class RegistryError(ClubhouseError):
    """The schema registry refused or failed a request."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class RegistryUnreachableError(RegistryError):
    """No registry answered at the configured URL(s)."""


class NotARegistryError(RegistryUnreachableError):
    """Something answers at the registry URL, but not as a schema registry (a web page, say)."""


class RegistryUnauthorizedError(RegistryError):
    """The registry rejected the credentials (HTTP 401 / 403)."""


class IncompatibleSchemaError(RegistryError):
    """The schema breaks the subject's compatibility level (HTTP 409)."""


class InvalidSchemaError(RegistryError):
    """The registry says the schema is not valid Avro, or a reference is missing (HTTP 422)."""


class NotFoundError(RegistryError):
    """The subject, version or schema id does not exist (HTTP 404)."""


# Statuses a proxy in front of a registry may answer with its own page, not the registry's JSON.
AUTH_STATUSES = frozenset({401, 403, 407})

_BY_STATUS: dict[int, tuple[type[RegistryError], str]] = {
    401: (RegistryUnauthorizedError, "unauthorized: check --basic-auth / "
          "SCHEMA_REGISTRY_BASIC_AUTH or the bearer token"),
    403: (RegistryUnauthorizedError, "unauthorized: these credentials may not do this"),
    404: (NotFoundError, "not found"),
    409: (IncompatibleSchemaError, "incompatible with the subject's compatibility "
          "level; run `clubhouse schemas check` to see why"),
    422: (InvalidSchemaError, "rejected as invalid"),
}  # fmt: skip


def error_for(
    action: str, where: str, status: int, code: int | None, message: str
) -> RegistryError:
    """The typed error for the registry's answer ``status`` / ``code`` to ``action``."""
    kind, hint = _BY_STATUS.get(status, (RegistryError, "failed"))
    text = f"{message} (HTTP {status}, error code {code})"
    return kind(f"{action} at {where}: {hint}: {text}", status=status, code=code)


def not_a_registry(where: str, answered: str, status: int | None = None) -> NotARegistryError:
    """The error for ``where`` answering as no schema registry does; ``answered`` says how."""
    return NotARegistryError(
        f"{where} is not a schema registry: {answered}. Check --schema-registry-url / "
        "SCHEMA_REGISTRY_URL",
        status=status,
    )
