"""Options shared by several commands: registry connection, contract modules, output, logging.

Every option that has an environment variable names it in its help; a flag wins over its
variable. Groups of flags reach a command as one typed value (``registry: RegistryOptions``,
``broker: BrokerOptions``), never as loose keyword arguments. Heavy imports (pydantic, the
confluent registry client) happen inside the functions that need them, so ``--help`` is fast.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import click

from clubhouse.cli.connection import (
    BOOTSTRAP_ENV,
    REGISTRY_ENV,
    BrokerOptions,
    DevStackEnv,
    RegistryOptions,
    find_dev_stack,
)
from clubhouse.logging_setup import configure_logging
from clubhouse.services.registry_urls import registry_urls

if TYPE_CHECKING:
    from clubhouse.application import App
    from clubhouse.contracts import MessageCatalog
    from clubhouse.docs.model import TopicDoc
    from clubhouse.services.schema_registry import ConfluentSchemaRegistry

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2  # configuration error, or a registry / broker that cannot be reached


class option_group:
    """Several click options applied as one decorator, in ``--help`` order."""

    def __init__(self, *decorators: Callable[[Any], Any]) -> None:
        self._decorators = decorators

    def __call__(self, fn: F) -> F:
        for decorator in reversed(self._decorators):
            fn = decorator(fn)
        return fn


_REGISTRY_PARAMS = (
    "schema_registry_url", "url", "basic_auth", "bearer_token", "bearer_logical_cluster",
    "registry_ca", "registry_cert", "registry_key", "registry_timeout", "registry_wait",
)  # fmt: skip


def _source(ctx: click.Context, param: str, flag: str, env_var: str) -> str:
    from click.core import ParameterSource  # noqa: PLC0415 - keep start-up light

    return env_var if ctx.get_parameter_source(param) is ParameterSource.ENVIRONMENT else flag


def _dev_stack(ctx: click.Context) -> DevStackEnv | None:
    """The dev stack of the working directory, looked up once per command."""
    if "clubhouse_dev_stack" not in ctx.meta:
        ctx.meta["clubhouse_dev_stack"] = find_dev_stack()
    found: DevStackEnv | None = ctx.meta["clubhouse_dev_stack"]
    return found


def _announce_dev_stack(ctx: click.Context, found: DevStackEnv) -> None:
    if not ctx.meta.get("clubhouse_dev_stack_announced"):
        ctx.meta["clubhouse_dev_stack_announced"] = True
        urls = ", ".join(found.env.values())
        click.echo(f"Using the dev stack running from {found.path} ({urls})", err=True)


def _registry_from(ctx: click.Context, values: dict[str, Any]) -> RegistryOptions:
    url, source = values["url"], "--url"
    if not url and values["schema_registry_url"]:
        url = values["schema_registry_url"]
        source = _source(ctx, "schema_registry_url", "--schema-registry-url", REGISTRY_ENV)
    # The probe, the messages and both clients all see the URLs with their scheme.
    url = ",".join(registry_urls(url or ""))
    return RegistryOptions(
        url=url or None,
        source=source if url else "",
        basic_auth=values["basic_auth"],
        bearer_token=values["bearer_token"],
        bearer_logical_cluster=values["bearer_logical_cluster"] or "",
        ca=values["registry_ca"],
        cert=values["registry_cert"],
        key=values["registry_key"],
        timeout_s=values["registry_timeout"],
        wait_s=values["registry_wait"],
    )


def with_dev_stack(registry: RegistryOptions) -> RegistryOptions:
    """``registry``, or when it names no URL, the dev stack running from this directory.

    A ``dev.env`` whose stack is gone is not used; it is kept to explain the error.
    """
    if registry.url:
        return registry
    ctx = click.get_current_context()
    found = _dev_stack(ctx)
    if found is None:
        return registry
    if not found.running or not found.env.get(REGISTRY_ENV):
        return replace(registry, stale_dev_stack=found)
    _announce_dev_stack(ctx, found)
    return replace(registry, url=found.env[REGISTRY_ENV], source=str(found.path))


def collapse(
    target: str, names: tuple[str, ...], build: Callable[[click.Context, dict[str, Any]], Any]
) -> Callable[[F], F]:
    """Replace the keyword arguments ``names`` of a command with one typed ``target`` value."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in names}
            kwargs[target] = build(click.get_current_context(), values)
            return fn(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


DEV_STACK_DEFAULT = "the dev stack running from this directory"


def registry_options(
    *, required: bool = True, default: str = DEV_STACK_DEFAULT
) -> Callable[[F], F]:
    """``--schema-registry-url`` / ``--url`` and the auth, TLS and timeout flags with them.

    The command receives them as one ``registry: RegistryOptions``. ``open_registry`` falls
    back to the dev stack running from this directory (``with_dev_stack``) when no URL was
    given; ``required`` makes a missing URL an error before the command runs.
    """

    def build(ctx: click.Context, values: dict[str, Any]) -> RegistryOptions:
        options = _registry_from(ctx, values)
        if required:
            options = with_dev_stack(options)
            if not options.url:
                raise click.UsageError(options.missing_message())
        return options

    return option_group(
        collapse("registry", _REGISTRY_PARAMS, build),
        click.option(
            "--schema-registry-url",
            "schema_registry_url",
            envvar=REGISTRY_ENV,
            help="Registry URL(s), comma-separated for fail-over; host:port means http://. "
            "Env: SCHEMA_REGISTRY_URL. "
            f"Default: {default}.",
        ),
        click.option(
            "--url",
            "url",
            metavar="URL",
            help="Same as --schema-registry-url.",
        ),
        click.option(
            "--basic-auth",
            envvar="SCHEMA_REGISTRY_BASIC_AUTH",
            metavar="USER:PASSWORD",
            help="HTTP basic auth for the registry. Env: SCHEMA_REGISTRY_BASIC_AUTH.",
        ),
        click.option(
            "--bearer-token",
            envvar="SCHEMA_REGISTRY_BEARER_TOKEN",
            help="Static bearer token for the registry. Env: SCHEMA_REGISTRY_BEARER_TOKEN.",
        ),
        click.option(
            "--bearer-logical-cluster",
            envvar="SCHEMA_REGISTRY_LOGICAL_CLUSTER",
            default="",
            help="Logical cluster id sent with the bearer token (Confluent Cloud).",
        ),
        click.option(
            "--registry-ca",
            envvar="SCHEMA_REGISTRY_CA",
            type=click.Path(exists=True, dir_okay=False),
            help="CA bundle that signs the registry's TLS certificate.",
        ),
        click.option(
            "--registry-cert",
            envvar="SCHEMA_REGISTRY_CERT",
            type=click.Path(exists=True, dir_okay=False),
            help="Client certificate (PEM) for mutual TLS.",
        ),
        click.option(
            "--registry-key",
            envvar="SCHEMA_REGISTRY_KEY",
            type=click.Path(exists=True, dir_okay=False),
            help="Client private key (PEM) for mutual TLS.",
        ),
        click.option(
            "--registry-timeout",
            type=float,
            default=10.0,
            show_default=True,
            help="Seconds before one registry request times out.",
        ),
        click.option(
            "--registry-wait",
            type=float,
            default=0.0,
            show_default=True,
            metavar="SECONDS",
            help="Keep retrying the first connection this long while the registry starts.",
        ),
    )


def broker_options(*, dev_stack: bool = True) -> Callable[[F], F]:
    """``--bootstrap-servers``, received as one ``broker: BrokerOptions``."""

    def build(ctx: click.Context, values: dict[str, Any]) -> BrokerOptions:
        given = values["bootstrap_servers"]
        if given:
            flag = _source(ctx, "bootstrap_servers", "--bootstrap-servers", BOOTSTRAP_ENV)
            return BrokerOptions(given, flag)
        found = _dev_stack(ctx) if dev_stack else None
        if found is not None and found.running and found.env.get(BOOTSTRAP_ENV):
            _announce_dev_stack(ctx, found)
            return BrokerOptions(found.env[BOOTSTRAP_ENV], str(found.path))
        return BrokerOptions()

    default = " Default: the dev stack running from this directory." if dev_stack else ""
    return option_group(
        collapse("broker", ("bootstrap_servers",), build),
        click.option(
            "--bootstrap-servers",
            envvar=BOOTSTRAP_ENV,
            help=f"Kafka bootstrap servers, host:port[,host:port]. Env: {BOOTSTRAP_ENV}.{default}",
        ),
    )


def _contracts(_ctx: click.Context, values: dict[str, Any]) -> Contracts:
    return Contracts(values["app_ref"], tuple(values["model_modules"]))


models_option = click.option(
    "--models",
    "model_modules",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE and include its message models (repeatable), e.g. myapp.messages.",
)

topic_prefix_option = click.option(
    "--topic-prefix",
    envvar="CLUBHOUSE_TOPIC_PREFIX",
    default="clubhouse",
    show_default=True,
    help="Prefix of topics and schema subjects. Env: CLUBHOUSE_TOPIC_PREFIX.",
)

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout."
)


def _logging_options(default_level: int) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        def configure(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
            ctx.meta.setdefault("clubhouse_logging", {})[param.name] = value
            opts = ctx.meta["clubhouse_logging"]
            if "debug" in opts and "log_format" in opts:
                level = logging.DEBUG if opts["debug"] else default_level
                configure_logging(level, opts["log_format"])
            return value

        return option_group(
            click.option(
                "--debug", is_flag=True, callback=configure, expose_value=False, is_eager=True,
                help="Log at DEBUG level.",
            ),
            click.option(
                "--log-format", type=click.Choice(["text", "json"]), default="text",
                envvar="CLUBHOUSE_LOG_FORMAT", show_default=True, callback=configure,
                expose_value=False, is_eager=True, help="Log lines as text or as JSON objects.",
            ),
        )(fn)  # fmt: skip

    return decorate


# Servers and pipelines log their progress at INFO; interactive client commands only warn.
logging_options = _logging_options(logging.INFO)
quiet_logging_options = _logging_options(logging.WARNING)


def cwd_on_sys_path() -> None:
    """Put the working directory on ``sys.path``, as uvicorn and celery do.

    Every option that names a module (``--models``, ``--agent-factory``) then finds the
    project it is run from, as ``python -m`` would.
    """
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def syntax_error_message(what: str, exc: SyntaxError) -> str:
    """``what``: the file:line of a SyntaxError and its reason, in one line."""
    return f"cannot import {what}: {exc.msg} at {exc.filename}:{exc.lineno}"


def build_catalog(
    model_modules: tuple[str, ...], *, app: App | None = None
) -> MessageCatalog:
    """The contracts a command works on; a bad module is a usage error (exit 2).

    With an app, the app's models (plus ``model_modules``); with modules alone, only those
    modules' models and the bases; with neither, the bundled agents app's models.
    """
    from clubhouse.agents.messages import agents_catalog  # noqa: PLC0415 - pydantic
    from clubhouse.contracts import (  # noqa: PLC0415
        BaseMessage,
        CatalogError,
        Command,
        ErrorResponse,
        Event,
        MessageCatalog,
        Response,
    )

    if app is not None:
        catalog = app.catalog()
    elif model_modules:
        catalog = MessageCatalog([BaseMessage, Command, Response, Event, ErrorResponse])
    else:
        catalog = agents_catalog()
    if model_modules:
        cwd_on_sys_path()
    for module in model_modules:
        try:
            catalog.add_module(module)
        except CatalogError as exc:
            raise click.UsageError(str(exc)) from exc
        except SyntaxError as exc:
            message = syntax_error_message(f"contract module {module!r}", exc)
            raise click.UsageError(message) from exc
    return catalog


class Contracts:
    """Which contracts a command works on: ``--app`` and ``--models``, the same way in every
    command (with neither, the bundled agents app). The app is imported on first use."""

    def __init__(self, app_ref: str | None, model_modules: tuple[str, ...]) -> None:
        self.app_ref = app_ref
        self.model_modules = model_modules
        self._app: App | None = None
        self._loaded = False

    def app(self) -> App | None:
        """The App ``--app`` names, or None; a bad reference exits 2."""
        if not self._loaded:
            self._app = load_app_option(self.app_ref)
            self._loaded = True
        return self._app

    def catalog(self) -> MessageCatalog:
        """The models: the app's, or ``--models``', or the bundled agents app's."""
        return build_catalog(self.model_modules, app=self.app())

    def prefix(self, topic_prefix: str) -> str:
        """``--topic-prefix`` when given, else the app's own prefix."""
        return prefix_for(self.app(), topic_prefix)

    def links(self, topic_prefix: str) -> tuple[TopicDoc, ...]:
        """The other apps' topics the app follows or sends to, for the docs."""
        from clubhouse.docs.model import app_links  # noqa: PLC0415 - heavy imports

        app = self.app()
        if app is None:
            return ()
        return app_links(app, app.prefixes(self.prefix(topic_prefix)))

    def keys(self) -> dict[str, str]:
        """Each command model's key field, by model name (the app's handlers say)."""
        from clubhouse.agents.app import builtin_app  # noqa: PLC0415 - pydantic

        app = self.app()
        if app is None and not self.model_modules:
            app = builtin_app()
        if app is None:
            return {}
        return {h.command.__name__: h.key_field for h in app.handlers}


def load_app_option(reference: str | None) -> App | None:
    """The App ``--app`` names, imported from the working directory; errors exit 2."""
    if not reference:
        return None
    from clubhouse.application.loading import AppLoadError, load_app  # noqa: PLC0415
    from clubhouse.contracts import CatalogError  # noqa: PLC0415

    cwd_on_sys_path()
    try:
        return load_app(reference)
    except (AppLoadError, CatalogError) as exc:
        raise click.UsageError(str(exc)) from exc
    except SyntaxError as exc:
        raise click.UsageError(syntax_error_message(f"--app {reference!r}", exc)) from exc


def prefix_for(app: App | None, topic_prefix: str) -> str:
    """``--topic-prefix`` (or its variable) when given, else the app's own prefix."""
    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source("topic_prefix") if ctx is not None else None
    given = source not in (None, click.core.ParameterSource.DEFAULT)
    return topic_prefix if given or app is None else app.prefix


app_option = click.option(
    "--app",
    "app_ref",
    metavar="MODULE:ATTR",
    envvar="CLUBHOUSE_APP",
    help="Your App (e.g. orders_app:app), imported from the working directory. Its "
    "prefix is the topic prefix unless --topic-prefix says otherwise. Env: CLUBHOUSE_APP.",
)


# --app and --models as one ``contracts: Contracts`` argument: every command that works on
# contracts or topics names its app this way.
contracts_options = option_group(
    collapse("contracts", ("app_ref", "model_modules"), _contracts), app_option, models_option
)


def fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def check_registry_reachable(registry: RegistryOptions) -> None:
    """Probe the registry briefly; a dead or wrong address exits 2 naming it.

    With ``--registry-wait`` a refused connection is left to the client's own retries; an
    address that accepts but does not speak HTTP fails at once all the same.
    """
    from clubhouse.cli.probe import ProbeError, probe_registry  # noqa: PLC0415

    assert registry.url is not None
    try:
        probe_registry(registry.url, named_by=registry.source)
    except ProbeError as exc:
        if registry.wait_s > 0 and exc.refused:
            return
        message = str(exc)
        if registry.stale_dev_stack is not None:
            message += f". {registry.stale_dev_stack.stale_hint}"
        fail(message)


@contextmanager
def open_registry(registry: RegistryOptions) -> Iterator[ConfluentSchemaRegistry]:
    """A client for ``registry`` (or the dev stack), probed, waiting ``--registry-wait``."""
    from clubhouse.services.schema_registry import (  # noqa: PLC0415 - slow import
        ConfluentSchemaRegistry,
        wait_for_registry,
    )

    registry = with_dev_stack(registry)
    if not registry.url:
        raise click.UsageError(registry.missing_message())
    check_registry_reachable(registry)
    with ConfluentSchemaRegistry.from_settings(registry.settings()) as client:
        wait_for_registry(client, registry.wait_s)
        yield client
