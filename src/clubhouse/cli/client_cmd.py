"""``clubhouse send`` and ``clubhouse events``: talk to a running service from the shell.

Nothing heavy is imported until a command runs: ``--help`` needs neither pydantic nor the
confluent clients, and the contracts are named here as strings for the same reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from clubhouse.cli import gc_pause
from clubhouse.cli.connection import (
    DEV_APP_ENV,
    BrokerOptions,
    RegistryOptions,
    find_dev_stack,
)
from clubhouse.cli.options import (
    EXIT_CONFIG,
    EXIT_FAILED,
    app_option,
    broker_options,
    build_catalog,
    check_registry_reachable,
    collapse,
    fail,
    json_option,
    load_app_option,
    models_option,
    option_group,
    prefix_for,
    quiet_logging_options,
    registry_options,
    topic_prefix_option,
    with_dev_stack,
)

if TYPE_CHECKING:
    from clubhouse.application import App
    from clubhouse.client import ClubhouseClient, Published, TopicKind
    from clubhouse.contracts import BaseMessage, Command, MessageCatalog

# librdkafka drops the bootstrap connection once the metadata names the broker, and waits
# reconnect.backoff.ms / 2 (50 ms by default) before opening another for a request that was
# sent on it: the response reader's first metadata request took over 40 ms in 7 of 30 runs
# on the dev broker, and in 1 of 30 at 10 ms (measured). A command that runs for a second
# has no use for the back-off; it still doubles on each failed attempt, up to
# reconnect.backoff.max.ms.
ONE_SHOT_TUNING: dict[str, str | int | float | bool] = {"reconnect.backoff.ms": 10}

NO_CONNECTION = (
    "no broker or registry: pass --bootstrap-servers and --schema-registry-url, set "
    "KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL, or start `clubhouse dev` here"
)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """The flags every client command shares."""

    broker: BrokerOptions
    registry: RegistryOptions
    model_modules: tuple[str, ...]
    topic_prefix: str
    as_json: bool


# Outermost first; the ClientOptions collapse is innermost, so that it receives the
# already-typed broker and registry values.
client_connection_options = option_group(
    quiet_logging_options,
    json_option,
    models_option,
    topic_prefix_option,
    broker_options(),
    registry_options(required=False),
    collapse(
        "client",
        ("broker", "registry", "model_modules", "topic_prefix", "as_json"),
        lambda _ctx, values: ClientOptions(**values),
    ),
)


@contextmanager
def connect(options: ClientOptions, app: App | None = None) -> Iterator[ClubhouseClient]:
    """A client from flags, environment or the running dev stack; connection errors exit 2.

    With ``app`` it speaks the App's models, keyed as its handlers declare.
    """
    from clubhouse.cli.probe import ProbeError, probe_brokers  # noqa: PLC0415

    broker = options.broker
    registry = with_dev_stack(options.registry)
    if not broker.bootstrap_servers or not registry.url:
        message = NO_CONNECTION
        if registry.stale_dev_stack is not None:
            message += f". {registry.stale_dev_stack.stale_hint}"
        fail(message)
    check_registry_reachable(registry)
    try:
        probe_brokers(broker.bootstrap_servers, named_by=f"from {broker.source}")
    except ProbeError as exc:
        fail(str(exc))
    catalog = build_catalog(options.model_modules, app=app)
    from clubhouse.cli.registry_lookup import one_shot_registry  # noqa: PLC0415
    from clubhouse.client import ClubhouseClient  # noqa: PLC0415 - heavy imports
    from clubhouse.errors import ClubhouseError  # noqa: PLC0415
    from clubhouse.services.kafka_settings import KafkaSettings  # noqa: PLC0415

    prefix = prefix_for(app, options.topic_prefix)
    client_registry = one_shot_registry(registry.settings(), subject_prefix=f"{prefix}-")
    try:
        client = ClubhouseClient.connect(
            KafkaSettings.from_env(
                bootstrap_servers=broker.bootstrap_servers, dev_tuning=True, extra=ONE_SHOT_TUNING
            ),
            client_registry,
            catalog=catalog,
            topic_prefix=prefix,
            app=app,
            idempotent=False,  # one command per process; see ClubhouseClient.connect
        )
    except ClubhouseError as exc:
        client_registry.close()
        fail(f"{exc}{_served_app_hint(app)}", EXIT_CONFIG)
    try:
        yield client
    finally:
        client.close()
        client_registry.close()


def _served_app_hint(app: App | None) -> str:
    """When the dev stack here serves another app than the one asked for: which one."""
    found = find_dev_stack()
    served = found.env.get(DEV_APP_ENV) if found is not None and found.running else None
    if not served or app is not None:
        return ""
    return (f". The dev stack running here serves --app {served}: send one of its commands "
            f"with --app {served} (clubhouse send MODEL --app {served} --help lists a "
            "model's fields)")  # fmt: skip


def _topic_hint(exc: Exception, client: ClientOptions) -> str:
    if getattr(exc, "code", None) != "UNKNOWN_TOPIC_OR_PART":
        return ""
    return (
        f". The service creates its topics when it starts: is it running with --topic-prefix "
        f"{client.topic_prefix}?"
    )


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


def request(
    options: ClientOptions, command: Command, timeout: float, app: App | None = None
) -> None:
    """Send ``command`` and wait up to ``timeout`` seconds for its response; exit on failure."""
    from clubhouse.client import RequestTimeoutError  # noqa: PLC0415 - heavy imports
    from clubhouse.contracts import ErrorResponse  # noqa: PLC0415
    from clubhouse.errors import ClubhouseError  # noqa: PLC0415

    with connect(options, app) as client:
        try:
            response = client.request(command, timeout=timeout)
        except RequestTimeoutError as exc:
            fail(str(exc), EXIT_FAILED)
        except ClubhouseError as exc:
            fail(f"{exc}{_topic_hint(exc, options)}", EXIT_CONFIG)
    click.echo(render(response, options.as_json))
    if isinstance(response, ErrorResponse):
        raise SystemExit(EXIT_FAILED)


timeout_option = click.option(
    "--timeout",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds to wait for the response.",
)


class SendGroup(click.Group):
    """The built-in shortcuts by name; any other name is a command model to send."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The named subcommand, or a send command for any command model of that name."""
        found = super().get_command(ctx, cmd_name)
        return found if found is not None else _any_model(cmd_name)


@click.group("send", cls=SendGroup)
def send() -> None:
    """Send a command to the service and print the response that answers it.

    Any command model in the catalog can be sent by its class name, its fields as JSON:
    `clubhouse send MODEL --data JSON [--app MODULE:ATTR | --models MODULE]`. The data is
    validated against the model first; mistakes are listed by field path. The three
    built-in agent commands also have shortcuts with their own flags.

    Exit codes: 0 answered, 1 an ErrorResponse or no answer in time, 2 cannot connect or
    invalid data.

    \b
    Examples:
      clubhouse send create-agent --agent-id a1
      clubhouse send process-message --agent-id a1 --content "hello" --json
      clubhouse send delete-agent --agent-id a1
      clubhouse send PlaceOrderCommand --app orders_app:app --data '{"order_id":"o1","item":"pen"}'
      clubhouse send CreateAgentCommand --data '{"agent_id": "a2", "personality_type": "echo"}'
    """


class _ModelCommand(click.Command):
    """``send MODEL``: its help lists the model's fields, found through ``--app``."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The model's fields, their types and defaults, after the options."""
        app_ref = ctx.params.get("app_ref") or os.environ.get("CLUBHOUSE_APP")
        rows = _field_rows(self.name or "", app_ref)
        if rows:
            with formatter.section(f"Fields of {self.name} (for --data)"):
                formatter.write_dl(rows)
        super().format_epilog(ctx, formatter)


def _field_rows(name: str, app_ref: str | None) -> list[tuple[str, str]]:
    """``(field, "type, required | default X")`` for each field of the command model
    ``name``; none when it cannot be found (the help then says how to name it)."""
    from clubhouse.agents.messages import agents_catalog  # noqa: PLC0415 - pydantic
    from clubhouse.contracts import Command  # noqa: PLC0415

    try:
        app = load_app_option(app_ref)
        catalog = app.catalog() if app is not None else agents_catalog()
        model = catalog.get(name)
    except (click.UsageError, KeyError):
        return []
    if not issubclass(model, Command):
        return []
    rows = []
    for field_name, info in model.model_fields.items():
        if field_name in ("message_id", "timestamp", "message_type"):
            continue  # set by the client
        kind = _type_name(info.annotation)
        if info.is_required():
            default = "required"
        else:
            default = f"default {info.get_default(call_default_factory=True)!r}"
        rows.append((field_name, f"{kind}, {default}"))
    return rows


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    return text or str(annotation).replace("typing.", "")


def _any_model(name: str) -> click.Command:
    help_text = (
        f"Send a {name} built from --data and print the response. Its fields are listed "
        "below when --app (or CLUBHOUSE_APP) names the app that defines it.\n\n\b\nExamples:\n"
        f"  clubhouse send {name} --app MODULE:ATTR --data '{{...}}'\n"
        f"  clubhouse send {name} --app MODULE:ATTR --help\n"
        f"  clubhouse send {name} --models MODULE --data '{{...}}' --json\n"
    )

    @click.command(name, help=help_text, cls=_ModelCommand)
    @click.option("--data", required=True, metavar="JSON", help="The command's fields.")
    @_eager_app_option
    @timeout_option
    @client_connection_options
    def run(data: str, app_ref: str | None, timeout: float, client: ClientOptions) -> None:
        with gc_pause.paused():
            app = load_app_option(app_ref)
            request(client, _validated(name, data, build_catalog(client.model_modules, app=app)),
                    timeout, app)  # fmt: skip

    return run


# --app, read before --help when given first, so that the help can list the model's fields.
_eager_app_option = click.option(
    "--app", "app_ref", metavar="MODULE:ATTR", envvar="CLUBHOUSE_APP", is_eager=True,
    help="Your App (e.g. bank:app), imported from the working directory. Env: CLUBHOUSE_APP.",
)  # fmt: skip


def _validated(name: str, data: str, catalog: MessageCatalog) -> Command:
    """``data`` as a ``name`` command; an unknown model or invalid data exits 2."""
    from pydantic import ValidationError  # noqa: PLC0415 - heavy import

    from clubhouse.contracts import Command  # noqa: PLC0415

    try:
        model = catalog.get(name)
    except KeyError:
        commands = [m for m in catalog if issubclass(m, Command) and m is not Command]
        known = ", ".join(m.__name__ for m in commands)
        fail(f"no command model {name!r}: pass --app or --models with the module that defines "
             f"it (known commands: {known})")  # fmt: skip
    if not issubclass(model, Command):
        fail(f"{name} is a {model.__mro__[1].__name__}, not a Command: only commands are sent")
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        fail(f"--data is not JSON: {exc}")
    if not isinstance(payload, dict):
        fail("--data must be a JSON object of the command's fields")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in e['loc']) or '(command)'}: {e['msg']}"
            for e in exc.errors()
        )
        fail(f"--data is not a valid {name}:\n{problems}")


def _command(name: str, model: str, examples: str, *extra: Any) -> None:
    def run(timeout: float, client: ClientOptions, **fields: Any) -> None:
        with gc_pause.paused():
            import clubhouse.agents.messages  # noqa: PLC0415 - pydantic, only once a command runs

            build: Callable[..., Command] = getattr(clubhouse.agents.messages, model)
            # Each command field arrives as f_<name>; unset ones keep the model's default.
            values = {k[2:]: v for k, v in fields.items() if v is not None}
            request(client, build(**values), timeout)

    run.__doc__ = f"Send a {model} and print the response.\n\n\b\nExamples:\n{examples}"
    for option in reversed(extra):
        run = option(run)
    send.command(name)(timeout_option(client_connection_options(run)))


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
    "create-agent", "CreateAgentCommand",
    "  clubhouse send create-agent --agent-id a1\n"
    "  clubhouse send create-agent --agent-id e1 --personality echo --json\n"
    "  clubhouse send create-agent --agent-id a2 --metadata '{\"team\": \"red\"}'\n",
    _agent,
    click.option("--personality", "f_personality_type", default="assistant", show_default=True,
                 help="assistant, echo, or one your --agent-factory knows."),
    _meta,
)  # fmt: skip
_command(
    "delete-agent", "DeleteAgentCommand",
    "  clubhouse send delete-agent --agent-id a1\n"
    "  clubhouse send delete-agent --agent-id a1 --json --timeout 30\n",
    _agent,
)  # fmt: skip
_command(
    "process-message", "ProcessMessageCommand",
    "  clubhouse send process-message --agent-id a1 --content \"hello\"\n"
    "  clubhouse send process-message --agent-id a1 --content \"count: one two\" --json\n"
    "  clubhouse send process-message --agent-id a1 --content hi --conversation-id c7\n",
    _agent,
    click.option("--content", "f_content", required=True, help="The text to send."),
    click.option("--conversation-id", "f_conversation_id", help="Conversation id."),
    _meta,
)  # fmt: skip


@click.command("events")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new records until Ctrl-C.")
@click.option("--from-beginning", is_flag=True, help="Start with the oldest retained record.")
@click.option(
    "--idle-timeout", type=float, default=2.0, show_default=True,
    help="Without --follow: stop after this many seconds with no new record.",
)  # fmt: skip
@click.option(
    "--topic", type=click.Choice(["events", "responses", "dead-letters"]), default="events",
    show_default=True,
    help="Which of the app's topics to read; a dead letter is shown with why it was parked.",
)  # fmt: skip
@app_option
@client_connection_options
def events(
    *, follow: bool, from_beginning: bool, idle_timeout: float, topic: str,
    app_ref: str | None, client: ClientOptions,
) -> None:  # fmt: skip
    """Print what the service publishes: your app's (--app), or the bundled agents app's.

    Events by default; `--topic responses` or `--topic dead-letters` follow the others (a
    dead letter's reason, error and source come from its headers).

    Exit codes: 0 done (or Ctrl-C), 2 the broker, the registry or the topic cannot be
    reached.

    \b
    Examples:
      clubhouse events --follow
      clubhouse events --app bank:app --from-beginning --json
      clubhouse events --topic dead-letters --from-beginning
    """
    from clubhouse.errors import ClubhouseError  # noqa: PLC0415 - heavy imports

    app = load_app_option(app_ref)
    kind: TopicKind = "responses" if topic == "responses" else (
        "dead-letters" if topic == "dead-letters" else "events")  # fmt: skip
    with connect(client, app) as connected:
        try:
            for published in connected.follow(
                kind, from_beginning=from_beginning, idle_timeout=None if follow else idle_timeout
            ):
                click.echo(render_published(published, client.as_json))
                if not client.as_json:
                    click.echo("")
        except KeyboardInterrupt:
            return
        except ClubhouseError as exc:
            prefix = prefix_for(app, client.topic_prefix)
            fail(f"cannot read {prefix}-{topic}: {exc}{_topic_hint(exc, client)}")


_DLQ = "clubhouse.dlq."


def render_published(published: Published, as_json: bool) -> str:
    """One published record: its message, and a dead letter's reasons from its headers."""
    parked = {k.removeprefix(_DLQ): v for k, v in published.headers.items()
              if k.startswith(_DLQ)}  # fmt: skip
    if as_json:
        # A message is the same JSON object it always was (its type and fields); where the
        # record came from is added only when there is no message to show.
        data: dict[str, Any]
        if published.message is not None:
            data = {"type": type(published.message).__name__,
                    **published.message.model_dump(mode="json")}  # fmt: skip
        else:
            data = {"topic": published.topic, "partition": published.partition,
                    "offset": published.offset, "key": published.key,
                    "error": published.error}  # fmt: skip
        if parked:
            data["dead_letter"] = parked
        return json.dumps(data)
    lines = []
    if parked:
        lines += [f"dead letter  {name}={value}" for name, value in parked.items()]
    if published.message is not None:
        lines.append(render(published.message, False))
    elif published.error:
        lines.append(f"(not decodable: {published.error})")
    return "\n".join(lines)
