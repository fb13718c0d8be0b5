"""``clubhouse send`` and ``clubhouse events``: talk to a running service from the shell."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from clubhouse.cli.connection import read_dev_env, resolve
from clubhouse.cli.options import (
    EXIT_CONFIG,
    EXIT_FAILED,
    build_catalog,
    fail,
    json_option,
    models_option,
    quiet_logging_options,
    registry_options,
    registry_settings,
    topic_prefix_option,
)
from clubhouse.client import ClubhouseClient, RequestTimeoutError
from clubhouse.contracts import (
    BaseMessage,
    Command,
    CreateAgentCommand,
    DeleteAgentCommand,
    ErrorResponse,
    ProcessMessageCommand,
)
from clubhouse.errors import ClubhouseError
from clubhouse.services.kafka import KafkaSettings
from clubhouse.services.schema_registry import ConfluentSchemaRegistry


def connection_options(fn: Any) -> Any:
    fn = registry_options(required=False)(fn)
    fn = click.option(
        "--bootstrap-servers",
        envvar="KAFKA_BOOTSTRAP_SERVERS",
        help="Kafka bootstrap servers. Env: KAFKA_BOOTSTRAP_SERVERS. Default: the dev stack "
        "running from this directory (clubhouse dev).",
    )(fn)
    fn = topic_prefix_option(fn)
    fn = models_option(fn)
    fn = json_option(fn)
    return quiet_logging_options(fn)


@contextmanager
def connect(params: dict[str, Any]) -> Iterator[ClubhouseClient]:
    """A client from flags, environment or the running dev stack; connection errors exit 2."""
    dev_env = read_dev_env()
    bootstrap = resolve(params.get("bootstrap_servers"), "KAFKA_BOOTSTRAP_SERVERS", dev_env)
    url = resolve(params.get("url") or params.get("schema_registry_url"),
                  "SCHEMA_REGISTRY_URL", dev_env)  # fmt: skip
    if not bootstrap or not url:
        fail(
            "no broker or registry: pass --bootstrap-servers and --schema-registry-url, set "
            "KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL, or start `clubhouse dev` here"
        )
    registry = ConfluentSchemaRegistry.from_settings(
        registry_settings({**params, "schema_registry_url": url})
    )
    try:
        client = ClubhouseClient.connect(
            KafkaSettings.from_env(bootstrap_servers=bootstrap, dev_tuning=True),
            registry,
            catalog=build_catalog(params.get("model_modules", ())),
            topic_prefix=params["topic_prefix"],
        )
    except ClubhouseError as exc:
        registry.close()
        fail(str(exc), EXIT_CONFIG)
    try:
        yield client
    finally:
        client.close()
        registry.close()


def render(message: BaseMessage, as_json: bool) -> str:
    """One message as a JSON line, or as a small aligned table of its fields."""
    data = {"type": type(message).__name__, **message.model_dump(mode="json")}
    if as_json:
        return json.dumps(data)
    width = max(len(k) for k in data)
    return "\n".join(
        f"{k.ljust(width)}  {json.dumps(v) if isinstance(v, dict | list) else v}"
        for k, v in data.items()
    )


def request(params: dict[str, Any], command: Command, timeout: float) -> None:
    with connect(params) as client:
        try:
            response = client.request(command, timeout=timeout)
        except RequestTimeoutError as exc:
            fail(str(exc), EXIT_FAILED)
        except ClubhouseError as exc:
            fail(str(exc), EXIT_CONFIG)
    click.echo(render(response, params["as_json"]))
    if isinstance(response, ErrorResponse):
        raise SystemExit(EXIT_FAILED)


timeout_option = click.option(
    "--timeout",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds to wait for the response.",
)


@click.group("send")
def send() -> None:
    """Send a command to the service and print the response that answers it.

    Exit codes: 0 answered, 1 an ErrorResponse or no answer in time, 2 cannot connect.

    \b
    Examples:
      clubhouse send create-agent --agent-id a1
      clubhouse send process-message --agent-id a1 --content "hello" --json
      clubhouse send delete-agent --agent-id a1
    """


def _command(name: str, build: Callable[..., Command], *extra: Any) -> None:
    def run(timeout: float, **params: Any) -> None:
        fields = {k: params.pop(k) for k in list(params) if k.startswith("f_")}
        request(params, build(**{k[2:]: v for k, v in fields.items() if v is not None}), timeout)

    for option in reversed(extra):
        run = option(run)
    send.command(name)(timeout_option(connection_options(run)))


def _metadata(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise click.BadParameter("must be a JSON object")
    return parsed


_agent = click.option("--agent-id", "f_agent_id", required=True, help="The agent's id.")
_meta = click.option(
    "--metadata", "f_metadata", callback=lambda _c, _p, v: _metadata(v), help="JSON object."
)

_command(
    "create-agent", CreateAgentCommand, _agent,
    click.option("--personality", "f_personality_type", default="assistant", show_default=True,
                 help="assistant, echo, or one your --agent-factory knows."),
    _meta,
)  # fmt: skip
_command("delete-agent", DeleteAgentCommand, _agent)
_command(
    "process-message", ProcessMessageCommand, _agent,
    click.option("--content", "f_content", required=True, help="The text to send."),
    click.option("--conversation-id", "f_conversation_id", help="Conversation id."),
    _meta,
)  # fmt: skip


@click.command("events")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until Ctrl-C.")
@click.option("--from-beginning", is_flag=True, help="Start with the oldest retained event.")
@click.option(
    "--idle-timeout", type=float, default=2.0, show_default=True,
    help="Without --follow: stop after this many seconds with no new event.",
)  # fmt: skip
@connection_options
def events(follow: bool, from_beginning: bool, idle_timeout: float, **params: Any) -> None:
    """Print the service's events (agent thinking, errors, state changes).

    \b
    Examples:
      clubhouse events --follow
      clubhouse events --from-beginning --json
    """
    with connect(params) as client:
        try:
            for event in client.events(
                from_beginning=from_beginning, idle_timeout=None if follow else idle_timeout
            ):
                click.echo(render(event, params["as_json"]))
                if not params["as_json"]:
                    click.echo("")
        except KeyboardInterrupt:
            return
