"""``send`` and ``events`` against a broker or registry that is missing or wrong: exit 2, one
line naming the address, no traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from clubhouse.cli.broker_hello import broker_answers
from clubhouse.cli.main import cli
from clubhouse.cli.probe import PROBE_TIMEOUT_S, split_host_port
from tests.web_server import html_server

pytestmark = pytest.mark.integration


@pytest.fixture
def dead_address() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
    yield address


@pytest.fixture
def web_server() -> Iterator[str]:
    with html_server() as address:
        yield address


@pytest.fixture
def registered_prefix(registry_url: str, topic_prefix: str) -> str:
    """A topic prefix whose schemas are registered, and whose topics do not exist."""
    result = CliRunner().invoke(cli, ["register", "--url", registry_url,
                                      "--topic-prefix", topic_prefix])  # fmt: skip
    assert result.exit_code == 0, result.output
    return topic_prefix


def one_clean_error(output: str) -> str:
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    assert "Traceback" not in output
    return errors[0]


@pytest.mark.parametrize("command", [["events"], ["send", "create-agent", "--agent-id", "a1"]])
def test_unreachable_broker(
    command: list[str], registry_url: str, registered_prefix: str, dead_address: str
) -> None:
    args = ["--bootstrap-servers", dead_address, "--url", registry_url]
    result = CliRunner().invoke(cli, [*command, *args, "--topic-prefix", registered_prefix])
    assert result.exit_code == 2
    line = one_clean_error(result.output)
    assert f"no Kafka broker answers at {dead_address} (from --bootstrap-servers)" in line


@pytest.mark.parametrize("command", [["events"], ["send", "create-agent", "--agent-id", "a1"]])
def test_a_web_server_as_broker_fails_at_once_naming_it(
    command: list[str], registry_url: str, registered_prefix: str, web_server: str
) -> None:
    args = ["--bootstrap-servers", web_server, "--url", registry_url]
    result = CliRunner().invoke(cli, [*command, *args, "--topic-prefix", registered_prefix])
    assert result.exit_code == 2
    line = one_clean_error(result.output)
    assert f"no Kafka broker answers at {web_server} (from --bootstrap-servers)" in line
    assert f"{web_server} answered with HTML, not Kafka" in line
    assert "Invalid response size" not in result.output


def test_the_broker_probe_knows_a_real_broker(kafka_broker: str) -> None:
    host, port = split_host_port(kafka_broker, 9092)
    assert broker_answers(host, port, timeout=PROBE_TIMEOUT_S) is None


def test_events_on_a_missing_topic(
    kafka_broker: str, registry_url: str, registered_prefix: str
) -> None:
    args = ["--bootstrap-servers", kafka_broker, "--url", registry_url]
    result = CliRunner().invoke(cli, ["events", *args, "--topic-prefix", registered_prefix])
    assert result.exit_code == 2
    line = one_clean_error(result.output)
    assert f"{registered_prefix}-events" in line and "does not exist" in line
    assert f"is it running with --topic-prefix {registered_prefix}?" in line


@pytest.mark.parametrize(
    "command",
    [["schemas", "plan"], ["register"], ["send", "delete-agent", "--agent-id", "a1"]],
    ids=["schemas", "register", "send"],
)
def test_registry_url_on_the_broker_port_fails_at_once_naming_it(
    command: list[str], kafka_broker: str
) -> None:
    url = f"http://{kafka_broker}"
    broker = ["--bootstrap-servers", kafka_broker] if command[0] == "send" else []
    result = CliRunner().invoke(cli, [*command, "--url", url, *broker])
    assert result.exit_code == 2
    line = one_clean_error(result.output)
    assert f"cannot reach the schema registry (--url): {url}" in line
    assert "Kafka broker's port" in line
