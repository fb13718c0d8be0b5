"""Parsing what arrives over HTTP: query flags, version and id path segments, request bodies.

Each parser either returns a typed value or raises ``ApiError`` with the Confluent code
and a message naming the parameter and the value that was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from clubhouse.registry.canonical import load_json
from clubhouse.registry.core import LATEST, SchemaRequest
from clubhouse.registry.errors import (
    ApiError,
    ErrorCode,
    bad_request,
    invalid_schema,
    invalid_version,
    no_such_route,
    schema_not_found,
    unprocessable,
)
from clubhouse.registry.records import Reference
from clubhouse.registry.store import MAX_SCHEMA_ID

MAX_VERSION = 2**31 - 1
# ASCII digits only: int() also takes "+1", " 1", "1_0" and other scripts' digits, which
# Confluent refuses; the length cap keeps a huge number from ever reaching int().
_DIGITS = re.compile(r"[0-9]{1,10}")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


def flag(query: Mapping[str, str], name: str, default: bool = False) -> bool:
    """A boolean query parameter: ``true``/``false`` in any case (also 1/0, yes/no)."""
    raw = query.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise bad_request(f"Query parameter '{name}' must be true or false, got {raw!r}.")


def integer(query: Mapping[str, str], name: str, default: int) -> int:
    """Query parameter ``name`` as an int, ``default`` when absent or empty; 400 if not one."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"Query parameter '{name}' must be an integer, got {raw!r}.") from None


def page(items: list[Any], query: Mapping[str, str]) -> list[Any]:
    """Apply Confluent's ``offset`` / ``limit`` pagination (a negative limit means all)."""
    offset = max(integer(query, "offset", 0), 0)
    limit = integer(query, "limit", -1)
    end = None if limit < 0 else offset + limit
    return items[offset:end]


def _strict_int(raw: str) -> int | None:
    """``raw`` as a non-negative integer when it is 1-10 ASCII digits and nothing else."""
    return int(raw) if _DIGITS.fullmatch(raw) else None


def _shown(raw: str) -> str:
    """``raw`` cut short for an error message, so a huge segment is not echoed back whole."""
    return raw if len(raw) <= 40 else raw[:40] + "..."


def version(raw: str) -> int:
    """A version path segment: 1..2^31-1, or ``latest`` / ``-1`` (returned as ``LATEST``)."""
    if raw.lower() == "latest" or raw == "-1":
        return LATEST
    value = _strict_int(raw)
    if value is None or not 1 <= value <= MAX_VERSION:
        raise invalid_version(_shown(raw))
    return value


def schema_id(raw: str) -> int:
    """An id path segment: 1..2^31-1 in plain ASCII digits."""
    value = _strict_int(raw)
    if value is None:
        if not any(c.isdigit() for c in raw):
            # Confluent's id is an integer path parameter: a word matches no route at all.
            raise no_such_route()
        raise ApiError(
            404, ErrorCode.SCHEMA_NOT_FOUND,
            f"{_shown(raw)!r} is not a schema id (ids are integers from 1 to {MAX_SCHEMA_ID})",
        )  # fmt: skip
    if not 1 <= value <= MAX_SCHEMA_ID:
        raise schema_not_found(value)
    return value


def json_body(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object (400 when it is not JSON, 422 when not an object)."""
    if not body.strip():
        raise unprocessable("The request has no body; send a JSON object.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(f"The request body is not UTF-8 ({exc}).") from None
    try:
        data = load_json(text, "The request body")
    except ApiError as exc:
        raise bad_request(exc.message) from None
    if not isinstance(data, dict):
        raise unprocessable(f"The request body must be a JSON object, got {type(data).__name__}.")
    return data


def _optional_int(data: Mapping[str, Any], key: str, what: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSION:
        raise unprocessable(f"'{key}' must be {what} between 1 and {MAX_VERSION}, got {value!r}.")
    return value


def _reference(item: Any, index: int) -> Reference:
    if not isinstance(item, dict):
        raise invalid_schema(f"references[{index}] must be an object with name, subject, version.")
    name, subject, ver = item.get("name"), item.get("subject"), item.get("version")
    if not isinstance(name, str) or not name:
        raise invalid_schema(f"references[{index}].name must be a non-empty string.")
    if not isinstance(subject, str) or not subject:
        raise invalid_schema(f"references[{index}].subject must be a non-empty string.")
    if isinstance(ver, bool) or not isinstance(ver, int) or not 1 <= ver <= MAX_VERSION:
        raise invalid_schema(f"references[{index}].version must be an integer >= 1, got {ver!r}.")
    return Reference(name=name, subject=subject, version=ver)


def schema_request(data: Mapping[str, Any]) -> SchemaRequest:
    """The ``{"schema", "schemaType", "references", "id", "version"}`` body of a schema call."""
    schema = data.get("schema")
    if schema is None:
        raise invalid_schema("the request has no 'schema'; send the Avro schema as a string.")
    if not isinstance(schema, str):
        raise invalid_schema(
            f"'schema' must be a string holding the schema's JSON, got {type(schema).__name__};"
            " serialize the schema with json.dumps first."
        )
    if not schema.strip():
        raise ApiError(422, ErrorCode.INVALID_SCHEMA, "Empty schema")  # Confluent's words
    schema_type = data.get("schemaType")
    if schema_type is None:
        schema_type = "AVRO"
    if not isinstance(schema_type, str):
        raise invalid_schema(f"'schemaType' must be a string, got {schema_type!r}.")
    for unsupported in ("metadata", "ruleSet"):
        if data.get(unsupported) not in (None, {}):
            raise ApiError(
                422,
                ErrorCode.INVALID_SCHEMA,
                f"'{unsupported}' is not supported by this registry; send the schema without it.",
            )
    raw_refs = data.get("references")
    if raw_refs is None:
        raw_refs = []
    if not isinstance(raw_refs, list):
        raise invalid_schema("'references' must be a list of {name, subject, version} objects.")
    return SchemaRequest(
        schema=schema,
        schema_type=schema_type,
        references=tuple(_reference(item, i) for i, item in enumerate(raw_refs)),
        id=_optional_int(data, "id", "a schema id"),
        version=_optional_int(data, "version", "a version"),
    )
