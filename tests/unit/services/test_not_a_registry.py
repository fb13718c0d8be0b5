"""A registry URL where a web server answers (HTML, not the registry's JSON): both registry
clients say the URL is not a schema registry, with the status and content type, never the
page's raw bytes. Against a real HTTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clubhouse.services.registry_errors import RegistryError
from clubhouse.services.registry_http import RegistryHttp
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings
from tests.web_server import html_server


@pytest.fixture(params=[200, 404])
def web_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with html_server(request.param) as address:
        yield f"http://{address}"


def assert_names_it(error: RegistryError, url: str) -> None:
    message = str(error)
    assert f"{url} is not a schema registry" in message, message
    assert "DOCTYPE" not in message and "b'" not in message, message


def test_the_confluent_client_names_a_web_server(web_url: str) -> None:
    settings = RegistrySettings(urls=[web_url], max_retries=0)
    with (
        ConfluentSchemaRegistry.from_settings(settings) as client,
        pytest.raises(RegistryError) as caught,
    ):
        client.get_subjects()
    assert_names_it(caught.value, web_url)
    assert "answered HTTP" in str(caught.value)


def test_the_rest_client_names_a_web_server_and_its_content_type(web_url: str) -> None:
    settings = RegistrySettings(urls=[web_url], max_retries=0)
    with RegistryHttp(settings) as http, pytest.raises(RegistryError) as caught:
        http.call("GET", "/subjects/x/versions/latest")
    assert_names_it(caught.value, web_url)
    assert "content type text/html" in str(caught.value)
