"""Large schemas: the per-request field budget, and the parse lanes that keep them apart.

Ordering is shown with events, never with timings: a parse of a large schema is held open
until the test lets it go, and ordinary requests must complete meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from typing import Any

import httpx
from starlette.testclient import TestClient

from clubhouse.registry import Registry, Store, canonical, create_app
from clubhouse.registry.workers import BoundedPool, ParseLanes
from tests.avro_records import record

SMALL = record("Small", ("id", "long"))
# Past 64 KiB, so the registry's parse cache does not keep it.
WIDE_FIELDS = 2_500
# Hang guard only: a test that waits this long has already failed.
GUARD_S = 60.0


def wide(fields: int, name: str = "Wide", extra: Sequence[tuple[str, Any, Any]] = ()) -> str:
    declared: list[tuple[str, Any] | tuple[str, Any, Any]] = [
        (f"f{i}", "long") for i in range(fields)
    ]
    declared.extend(extra)
    return record(name, *declared)


def lanes(large_from: int) -> ParseLanes:
    return ParseLanes(
        BoundedPool("test-parse", max_workers=2, max_pending=16),
        BoundedPool("test-parse-large", max_workers=1, max_pending=4),
        large_from=large_from,
    )


# ---- the field budget -----------------------------------------------------------------------


def test_a_schema_over_the_field_budget_gets_a_clear_413(store: Store) -> None:
    with TestClient(create_app(Registry(store, max_schema_fields=10))) as client:
        fits = client.post("/subjects/s/versions", json={"schema": wide(10)})
        assert fits.status_code == 200, fits.text
        over = client.post("/subjects/t/versions", json={"schema": wide(11)})
        checked = client.post("/compatibility/subjects/s/versions", json={"schema": wide(11)})
        looked_up = client.post("/subjects/s", json={"schema": wide(11)})
    for answer in (over, checked, looked_up):
        assert answer.status_code == 413
        assert answer.json() == {
            "error_code": 413,
            "message": "The schema declares 11 record fields (nested records and references "
            "included); this registry accepts at most 10 in one request.",
        }


def test_the_field_budget_counts_nested_records_and_references(store: Store) -> None:
    with TestClient(create_app(Registry(store, max_schema_fields=6))) as client:
        part = record("Part", ("a", "long"), ("b", "long"), ("c", "long"), ("d", "long"))
        assert client.post("/subjects/part/versions", json={"schema": part}).status_code == 200
        reference = {"name": "Part", "subject": "part", "version": 1}
        using = record("Whole", ("x", "Part"), ("y", "long"))
        fits = client.post(
            "/subjects/whole/versions", json={"schema": using, "references": [reference]}
        )
        assert fits.status_code == 200, fits.text
        bigger = record("Whole2", ("x", "Part"), ("y", "long"), ("z", "long"))
        over = client.post(
            "/subjects/whole2/versions", json={"schema": bigger, "references": [reference]}
        )
        nested = record(
            "Outer",
            ("inner", json.loads(record("Inner", *[(f"i{i}", "long") for i in range(6)]))),
        )
        over_nested = client.post("/subjects/n/versions", json={"schema": nested})
    assert (over.status_code, over.json()["error_code"]) == (413, 413)
    assert "declares 7 record fields" in over.json()["message"]
    assert "declares 7 record fields" in over_nested.json()["message"]


def test_a_wide_schema_within_the_budget_is_registered_and_checked(client: TestClient) -> None:
    v1 = wide(WIDE_FIELDS)
    first = client.post("/subjects/w/versions", json={"schema": v1})
    assert first.json() == {"id": 1, "version": 1, "subject": "w"}
    v2 = wide(WIDE_FIELDS, extra=[("added", "string", "")])
    url = "/compatibility/subjects/w/versions/latest"
    assert client.post(url, json={"schema": v2}).json() == {"is_compatible": True}
    breaking = wide(WIDE_FIELDS, extra=[("required", "string", None)]).replace(
        ', "default": null', ""
    )
    refused = client.post(url, params={"verbose": "true"}, json={"schema": breaking}).json()
    assert refused["is_compatible"] is False
    assert "'required'" in refused["messages"][0]
    assert client.post("/subjects/w/versions", json={"schema": v2}).json()["version"] == 2
    assert client.post("/subjects/w", json={"schema": v1}).json()["version"] == 1


# ---- lanes ----------------------------------------------------------------------------------


class HeldParse:
    """``canonical.parse``, held open for schemas of at least ``from_chars`` characters."""

    def __init__(self, from_chars: int) -> None:
        self.from_chars = from_chars
        self.started = threading.Event()
        self.release = threading.Event()
        self.large_parses = 0

    def __call__(
        self,
        text: str,
        references: Sequence[canonical.ResolvedReference] = (),
        *,
        max_fields: int | None = None,
    ) -> canonical.ParsedSchema:
        if len(text) >= self.from_chars:
            self.large_parses += 1
            self.started.set()
            self.release.wait(GUARD_S)
        return canonical.parse(text, references, max_fields=max_fields)


def _http(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry")


def test_an_ordinary_registration_completes_while_large_checks_are_in_flight(
    store: Store,
) -> None:
    large = wide(200)
    held = HeldParse(from_chars=len(large))
    app = create_app(Registry(store, parse=held), parser=lanes(large_from=len(large)))

    async def scenario() -> None:
        async with _http(app) as http:
            checks = [
                asyncio.ensure_future(
                    http.post("/compatibility/subjects/big/versions", json={"schema": large})
                )
                for _ in range(3)
            ]
            assert await asyncio.to_thread(held.started.wait, GUARD_S)
            small = await asyncio.wait_for(
                http.post("/subjects/small/versions", json={"schema": SMALL}), GUARD_S
            )
            assert small.json() == {"id": 1, "version": 1, "subject": "small"}
            assert not any(check.done() for check in checks)  # still held: order, not luck
            held.release.set()
            answers = await asyncio.gather(*checks)
        assert [a.json() for a in answers] == [{"is_compatible": True}] * 3

    asyncio.run(scenario())


def test_a_large_registration_is_parsed_once_and_not_under_the_write_lock(
    store: Store,
) -> None:
    large = wide(WIDE_FIELDS)
    held = HeldParse(from_chars=len(large))
    app = create_app(Registry(store, parse=held), parser=lanes(large_from=len(large)))

    async def scenario() -> None:
        async with _http(app) as http:
            registering = asyncio.ensure_future(
                http.post("/subjects/big/versions", json={"schema": large})
            )
            assert await asyncio.to_thread(held.started.wait, GUARD_S)
            small = await asyncio.wait_for(
                http.post("/subjects/small/versions", json={"schema": SMALL}), GUARD_S
            )
            assert small.status_code == 200
            assert not registering.done()
            held.release.set()
            registered = await registering
        assert registered.json() == {"id": 2, "version": 1, "subject": "big"}

    asyncio.run(scenario())
    assert held.large_parses == 1
