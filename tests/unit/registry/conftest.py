"""Fixtures for in-process registry tests: a store on a temporary file and the ASGI app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from clubhouse.registry import Registry, Store, create_app


def record(name: str, *fields: tuple[str, Any] | tuple[str, Any, Any], **extra: Any) -> str:
    """An Avro record schema as JSON text; a field is (name, type) or (name, type, default)."""
    out = []
    for field in fields:
        item: dict[str, Any] = {"name": field[0], "type": field[1]}
        if len(field) == 3:
            item["default"] = field[2]
        out.append(item)
    return json.dumps({"type": "record", "name": name, "fields": out, **extra})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "registry.db")
    yield s
    s.close()


@pytest.fixture
def registry(store: Store) -> Registry:
    return Registry(store)


@pytest.fixture
def client(registry: Registry) -> Iterator[TestClient]:
    with TestClient(create_app(registry)) as c:
        yield c
