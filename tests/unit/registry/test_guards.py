"""Unexpected errors in Confluent's shape, the in-flight cap, and the bounded worker pools."""

from __future__ import annotations

import asyncio
import threading

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from clubhouse.registry.guards import InternalErrorMiddleware
from clubhouse.registry.workers import BoundedPool, PoolBusy


async def _boom(request: Request) -> Response:
    raise RuntimeError("secret detail: /var/lib/db password=hunter2")


def test_an_unexpected_error_is_a_confluent_500_without_the_exception_text() -> None:
    app = Starlette(routes=[Route("/boom", _boom)])
    app.add_middleware(InternalErrorMiddleware)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
        assert answer.status_code == 500
        assert answer.json() == {
            "error_code": 50001,
            "message": "Internal server error; the registry's log has the details.",
        }
        assert "hunter2" not in answer.text


def test_the_registry_app_answers_an_unexpected_error_as_50001(registry: object) -> None:
    from clubhouse.registry import Registry, create_app

    assert isinstance(registry, Registry)

    def broken(*args: object, **kwargs: object) -> object:
        raise KeyError("internal")

    registry.subjects = broken  # type: ignore[method-assign]
    with TestClient(create_app(registry), raise_server_exceptions=False) as client:
        answer = client.get("/subjects")
        assert (answer.status_code, answer.json()["error_code"]) == (500, 50001)
        assert "internal" not in answer.text
        assert answer.headers["content-type"].startswith("application/vnd.schemaregistry")


def test_a_full_pool_refuses_with_503_and_a_queued_job_is_dropped_when_cancelled() -> None:
    pool = BoundedPool("test", max_workers=1, max_pending=2)
    release = threading.Event()
    ran: list[str] = []

    def job(name: str) -> str:
        ran.append(name)
        release.wait(5)
        return name

    async def scenario() -> None:
        first = asyncio.ensure_future(pool.run(job, "first"))
        second = asyncio.ensure_future(pool.run(job, "second"))
        await asyncio.sleep(0.05)
        with pytest.raises(PoolBusy) as info:
            await pool.run(job, "third")
        assert (info.value.status, info.value.error_code) == (503, 503)
        second.cancel()  # its client left while it waited behind "first"
        await asyncio.sleep(0)
        release.set()
        assert await first == "first"
        with pytest.raises(asyncio.CancelledError):
            await second
        assert pool.pending == 0

    asyncio.run(scenario())
    pool.close()
    assert ran == ["first"]


def test_a_queued_parse_is_dropped_when_its_client_disconnects() -> None:
    from starlette.requests import ClientDisconnect

    pool = BoundedPool("test", max_workers=1, max_pending=4)
    release = threading.Event()
    ran: list[str] = []

    def job(name: str) -> str:
        ran.append(name)
        release.wait(5)
        return name

    async def scenario() -> None:
        left = asyncio.Event()

        async def receive() -> dict[str, object]:
            await left.wait()
            return {"type": "http.disconnect"}

        async def stays() -> dict[str, object]:
            await asyncio.Event().wait()
            return {}

        busy = asyncio.ensure_future(pool.run_for(stays, job, "busy"))
        await asyncio.sleep(0.05)
        abandoned = asyncio.ensure_future(pool.run_for(receive, job, "abandoned"))
        await asyncio.sleep(0.05)
        left.set()  # the second client hangs up while its job waits behind the first
        with pytest.raises(ClientDisconnect):
            await abandoned
        release.set()
        assert await busy == "busy"
        assert pool.pending == 0

    asyncio.run(scenario())
    pool.close()
    assert ran == ["busy"]
