"""Confluent's error codes and the one exception type the registry raises on purpose.

Every failure a client can cause becomes a :class:`ApiError` carrying the HTTP status,
Confluent's numeric ``error_code`` and a message that names what was wrong and where. The
API layer turns it into the ``{"error_code", "message"}`` body Confluent clients parse.
Where Confluent's registry has a fixed message for a code, the helpers here use its exact
wording (from its ``Errors`` and ``Rest*Exception`` classes), since clients compare them.
"""

from __future__ import annotations

from enum import IntEnum

from clubhouse.errors import ClubhouseError


class ErrorCode(IntEnum):
    """The numeric codes Confluent Schema Registry puts in ``error_code``."""

    BAD_REQUEST = 400
    UNAUTHORIZED = 401
    NOT_FOUND = 404
    METHOD_NOT_ALLOWED = 405
    NOT_ACCEPTABLE = 406
    INCOMPATIBLE_SCHEMA = 409
    PAYLOAD_TOO_LARGE = 413
    UNSUPPORTED_MEDIA_TYPE = 415
    UNPROCESSABLE = 422
    SUBJECT_NOT_FOUND = 40401
    VERSION_NOT_FOUND = 40402
    SCHEMA_NOT_FOUND = 40403
    SUBJECT_SOFT_DELETED = 40404
    SUBJECT_NOT_SOFT_DELETED = 40405
    VERSION_SOFT_DELETED = 40406
    VERSION_NOT_SOFT_DELETED = 40407
    SUBJECT_COMPATIBILITY_NOT_CONFIGURED = 40408
    SUBJECT_MODE_NOT_CONFIGURED = 40409
    INVALID_SCHEMA = 42201
    INVALID_VERSION = 42202
    INVALID_COMPATIBILITY_LEVEL = 42203
    INVALID_MODE = 42204
    OPERATION_NOT_PERMITTED = 42205
    REFERENCE_EXISTS = 42206
    ID_DOES_NOT_MATCH = 42207
    INVALID_SUBJECT = 42208
    STORE_ERROR = 50001
    STORE_TIMEOUT = 50002


class ApiError(ClubhouseError):
    """A request the registry refuses: HTTP ``status``, Confluent ``error_code`` and a message."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.error_code}, {self.message!r})"


def subject_not_found(subject: str) -> ApiError:
    """404: no subject ``subject``."""
    return ApiError(404, ErrorCode.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")


def version_not_found(version: object) -> ApiError:
    """404: no such ``version`` of the subject."""
    return ApiError(404, ErrorCode.VERSION_NOT_FOUND, f"Version {version} not found.")


def schema_not_found(schema_id: int | None = None) -> ApiError:
    """Confluent's 40403: "Schema 7 not found" for an id, "Schema not found" under a subject."""
    message = "Schema not found" if schema_id is None else f"Schema {schema_id} not found"
    return ApiError(404, ErrorCode.SCHEMA_NOT_FOUND, message)


def no_such_route() -> ApiError:
    """What Confluent's REST layer answers for a path that matches nothing (or a bad id)."""
    return ApiError(404, ErrorCode.NOT_FOUND, "HTTP 404 Not Found")


def invalid_schema(detail: str) -> ApiError:
    """422: the schema is invalid, for the reason in ``detail``."""
    return ApiError(422, ErrorCode.INVALID_SCHEMA, f"Invalid schema: {detail}")


def invalid_version(value: str) -> ApiError:
    """422: ``value`` is neither a version from 1 to 2^31-1 nor ``latest``."""
    return ApiError(
        422,
        ErrorCode.INVALID_VERSION,
        f"The specified version '{value}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    )


def operation_not_permitted(detail: str) -> ApiError:
    """422: the registry's mode or state forbids the operation."""
    return ApiError(422, ErrorCode.OPERATION_NOT_PERMITTED, detail)


def bad_request(detail: str) -> ApiError:
    """400 with ``detail`` as the message."""
    return ApiError(400, ErrorCode.BAD_REQUEST, detail)


def unprocessable(detail: str) -> ApiError:
    """422 with ``detail`` as the message."""
    return ApiError(422, ErrorCode.UNPROCESSABLE, detail)


def schema_too_large(fields: int, limit: int) -> ApiError:
    """413: the schema (with its references) declares more record fields than the budget."""
    return ApiError(
        413,
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"The schema declares {fields} record fields (nested records and references "
        f"included); this registry accepts at most {limit} in one request.",
    )
