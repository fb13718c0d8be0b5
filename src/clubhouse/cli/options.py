"""Options shared by several commands: registry connection, contract modules, output, logging.

Every option that has an environment variable names it in its help; a flag wins over its
variable. Commands receive ready-built objects (RegistrySettings, MessageCatalog) from here.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import click

from clubhouse.contracts import CatalogError, MessageCatalog
from clubhouse.logging_setup import configure_logging
from clubhouse.services.schema_registry import (
    ConfluentSchemaRegistry,
    RegistrySettings,
    wait_for_registry,
)

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


def registry_options(*, required: bool = True) -> Callable[[F], F]:
    """``--schema-registry-url`` and the auth / TLS / timeout flags that go with it."""
    return option_group(
        click.option(
            "--schema-registry-url",
            "schema_registry_url",
            envvar="SCHEMA_REGISTRY_URL",
            required=required,
            help="Registry URL(s), comma-separated for fail-over. Env: SCHEMA_REGISTRY_URL.",
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


def registry_url(params: dict[str, Any]) -> str | None:
    """The registry URL from ``--url`` or ``--schema-registry-url`` (or its variable)."""
    url = params.get("url") or params.get("schema_registry_url")
    return str(url) if url else None


def registry_settings(params: dict[str, Any]) -> RegistrySettings:
    """RegistrySettings from the values of ``registry_options``."""
    return RegistrySettings.from_env(
        registry_url(params) or "",
        basic_auth=params.get("basic_auth"),
        bearer_token=params.get("bearer_token"),
        bearer_logical_cluster=params.get("bearer_logical_cluster") or "",
        ca_location=params.get("registry_ca"),
        certificate_location=params.get("registry_cert"),
        key_location=params.get("registry_key"),
        timeout_s=params.get("registry_timeout") or 10.0,
    )


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


def build_catalog(model_modules: tuple[str, ...]) -> MessageCatalog:
    """The built-in catalog plus the user's modules; a bad module is a usage error (exit 2)."""
    catalog = MessageCatalog.default()
    if model_modules and "" not in sys.path and os.getcwd() not in sys.path:
        # Like uvicorn and celery: `--models myapp.messages` finds the project in the cwd.
        sys.path.insert(0, os.getcwd())
    for module in model_modules:
        try:
            catalog.add_module(module)
        except CatalogError as exc:
            raise click.UsageError(str(exc)) from exc
    return catalog


def fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@contextmanager
def open_registry(params: dict[str, Any]) -> Iterator[ConfluentSchemaRegistry]:
    """A registry client for the ``registry_options``, waiting ``--registry-wait`` seconds."""
    if not registry_url(params):
        raise click.UsageError(
            "no schema registry given: pass --schema-registry-url URL (or --url), "
            "or set SCHEMA_REGISTRY_URL"
        )
    with ConfluentSchemaRegistry.from_settings(registry_settings(params)) as registry:
        wait_for_registry(registry, float(params.get("registry_wait") or 0.0))
        yield registry
