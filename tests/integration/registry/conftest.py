"""Helpers for the registry tests; the processes come from the shared dev-stack fixtures.

``registry_factory`` (tests/conftest.py) starts private registries, a second process on the
same database file (``db_path=``), one with authentication (``basic_auth_file=``, ``env=``)
or a given stop signal (``stop_signal=``); ``session_registry`` is one registry for the
whole session, where tests keep to the names ``subject`` makes for them.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from clubhouse.devstack import RegistryServer

Subject = Callable[..., str]


def sr_client(server: RegistryServer, **conf: object) -> SchemaRegistryClient:
    """A fresh confluent client (they cache, so each check of server state needs one)."""
    return SchemaRegistryClient({"url": server.url, **conf})


def http_client(server: RegistryServer) -> httpx.Client:
    """A plain HTTP client, for the status codes and bodies confluent's client hides."""
    return httpx.Client(base_url=server.url, timeout=30.0)


def log_text(server: RegistryServer) -> str:
    """Everything the server process wrote to stdout and stderr."""
    return server.config.log_path.read_text(errors="replace")


@pytest.fixture
def subject(topic_prefix: str) -> Subject:
    """Subject names unique to the test, so tests can share one server."""
    return lambda name="value": f"{topic_prefix}-{name}"
