"""Query flags, version and id segments, and request bodies as the API parses them."""

from __future__ import annotations

import pytest

from clubhouse.registry import params
from clubhouse.registry.errors import ApiError, ErrorCode
from clubhouse.registry.service import LATEST


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("True", True), ("false", False), ("False", False)]
)
def test_boolean_flags_accept_both_spellings(raw: str, expected: bool) -> None:
    assert params.flag({"deleted": raw}, "deleted") is expected


def test_a_missing_flag_takes_its_default_and_a_bad_one_is_named() -> None:
    assert params.flag({}, "deleted") is False
    with pytest.raises(ApiError, match="'deleted'.*'maybe'") as info:
        params.flag({"deleted": "maybe"}, "deleted")
    assert info.value.status == 400


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("latest", LATEST), ("-1", LATEST)])
def test_versions(raw: str, expected: int) -> None:
    assert params.version(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "0", "-2", "2147483648", "1.5", ""])
def test_invalid_versions_are_42202(raw: str) -> None:
    with pytest.raises(ApiError) as info:
        params.version(raw)
    assert (info.value.status, info.value.error_code) == (422, ErrorCode.INVALID_VERSION)


def test_pagination() -> None:
    items = list(range(10))
    assert params.page(items, {}) == items
    assert params.page(items, {"offset": "2", "limit": "3"}) == [2, 3, 4]
    assert params.page(items, {"offset": "8", "limit": "-1"}) == [8, 9]


def test_schema_request_reads_every_field() -> None:
    request = params.schema_request(
        {
            "schema": '"string"',
            "schemaType": "AVRO",
            "references": [{"name": "a.B", "subject": "b", "version": 2}],
            "id": 7,
            "version": 3,
        }
    )
    assert request.references[0].version == 2
    assert (request.id, request.version) == (7, 3)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "no 'schema'"),
        ({"schema": {"type": "string"}}, "json.dumps"),
        ({"schema": '"int"', "references": [{"name": "x", "subject": "s"}]}, "version"),
        ({"schema": '"int"', "references": "x"}, "references"),
        ({"schema": '"int"', "ruleSet": {"domainRules": []}}, "ruleSet"),
        ({"schema": '"int"', "id": "7"}, "'id'"),
        ({"schema": '"int"', "version": True}, "'version'"),
    ],
)
def test_bad_schema_requests_are_422_and_say_what_is_wrong(
    body: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ApiError) as info:
        params.schema_request(body)
    assert info.value.status == 422
    assert fragment in info.value.message


def test_bodies_must_be_json_objects() -> None:
    with pytest.raises(ApiError) as info:
        params.json_body(b"{nope")
    assert (info.value.status, info.value.error_code) == (400, 400)
    with pytest.raises(ApiError) as info:
        params.json_body(b"[1]")
    assert info.value.status == 422
    with pytest.raises(ApiError) as info:
        params.json_body(b"\xff\xfe")
    assert info.value.status == 400


@pytest.mark.parametrize(
    "raw", ["+1", " 1", "1 ", "1_0", "\u0661", "01" + "0" * 20, "9223372036854775808", " latest"]
)
def test_loose_spellings_of_a_version_are_42202(raw: str) -> None:
    with pytest.raises(ApiError) as info:
        params.version(raw)
    assert (info.value.status, info.value.error_code) == (422, ErrorCode.INVALID_VERSION)


@pytest.mark.parametrize(
    "raw", ["+1", " 1", "1_0", "\u0661", "0", "-1", "2147483648", "9223372036854775808", "9" * 5000]
)
def test_loose_or_out_of_range_ids_are_40403(raw: str) -> None:
    with pytest.raises(ApiError) as info:
        params.schema_id(raw)
    assert (info.value.status, info.value.error_code) == (404, ErrorCode.SCHEMA_NOT_FOUND)
    assert len(info.value.message) < 200  # a huge segment is not echoed back whole


def test_the_largest_wire_id_is_still_an_id() -> None:
    assert params.schema_id("2147483647") == 2**31 - 1
    assert params.version("2147483647") == 2**31 - 1
