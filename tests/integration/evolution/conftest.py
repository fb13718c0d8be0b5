"""One embedded registry process for the evolution tests; each test works under its own prefix."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings


@pytest.fixture
def registry(session_registry_url: str) -> Iterator[ConfluentSchemaRegistry]:
    client = ConfluentSchemaRegistry.from_settings(RegistrySettings.from_env(session_registry_url))
    yield client
    client.close()


@pytest.fixture
def prefix() -> str:
    """A topic prefix no other test uses, so subjects never collide on the shared registry."""
    return f"t{uuid.uuid4().hex[:10]}"
