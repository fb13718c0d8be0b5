"""A registry URL where a web server answers: exit 2 and one line naming the URL as not a
schema registry, with the status and content type, and none of the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from clubhouse.cli.main import cli
from tests.web_server import html_server


@pytest.fixture
def web_server() -> Iterator[str]:
    with html_server(404) as address:
        yield address


@pytest.mark.parametrize(
    "command",
    [["register"], ["schemas", "plan"], ["registry", "export"]],
    ids=["register", "schemas", "registry-export"],
)
def test_a_web_server_as_registry_is_named_in_one_line(command: list[str], web_server: str) -> None:
    result = CliRunner().invoke(cli, [*command, "--url", f"http://{web_server}"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "DOCTYPE" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert f"http://{web_server}" in errors[0] and "not a schema registry" in errors[0]
    assert "HTTP 404" in errors[0] and "content type text/html" in errors[0]
