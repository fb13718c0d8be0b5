"""A registry URL given without a scheme (``localhost:8081``) means ``http://localhost:8081``,
from a flag, from ``SCHEMA_REGISTRY_URL`` and in ``RegistrySettings`` alike."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from clubhouse.cli.main import cli
from clubhouse.services.schema_registry import RegistrySettings


@pytest.fixture
def dead_address() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    yield address


@pytest.mark.parametrize("how", ["--url", "--schema-registry-url", "SCHEMA_REGISTRY_URL"])
def test_an_address_without_a_scheme_is_probed_over_http(dead_address: str, how: str) -> None:
    given = ["--topic-prefix", "x"]
    env = {"SCHEMA_REGISTRY_URL": dead_address} if how == "SCHEMA_REGISTRY_URL" else {}
    args = given if env else [*given, how, dead_address]
    result = CliRunner().invoke(cli, ["schemas", "plan", *args], env=env)
    assert result.exit_code == 2, result.output
    assert f"cannot reach the schema registry ({how}): http://{dead_address}: cannot connect" in (
        result.output
    )


def test_settings_add_http_to_urls_without_a_scheme() -> None:
    settings = RegistrySettings(urls=["localhost:8081", "https://r.example:443", "r2"])
    assert list(settings.urls) == ["http://localhost:8081", "https://r.example:443", "http://r2"]
    assert (
        settings.client_config()["url"] == "http://localhost:8081,https://r.example:443,http://r2"
    )
    from_env = RegistrySettings.from_env(" localhost:8081 , ", {})
    assert list(from_env.urls) == ["http://localhost:8081"]
