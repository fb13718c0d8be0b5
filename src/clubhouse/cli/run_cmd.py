"""``clubhouse run``: register the schemas, then run the service (or only register, for CI/CD)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from clubhouse.cli.options import (
    build_catalog,
    json_option,
    logging_options,
    models_option,
    registry_options,
    registry_settings,
    registry_url,
    topic_prefix_option,
)
from clubhouse.cli.register_cmd import register_or_exit, registration_options, report_and_exit
from clubhouse.cli.serving import (
    serve_until_stopped,
    service_config,
    service_options,
    start_service,
)
from clubhouse.devstack import shutdown_signals

# With none of these set, `run` has nothing to connect to and starts the embedded stack.
CONNECTION_ENV = ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL")


def wants_embedded_stack(params: dict[str, Any]) -> bool:
    """True when neither flags nor environment name a broker or a registry."""
    given = params.get("bootstrap_servers") or registry_url(params)
    return not given and not any(os.environ.get(v) for v in CONNECTION_ENV)


@click.command("run")
@click.option(
    "--bootstrap-servers",
    envvar="KAFKA_BOOTSTRAP_SERVERS",
    help="Kafka bootstrap servers, host:port[,host:port]. Env: KAFKA_BOOTSTRAP_SERVERS.",
)
@registry_options(required=False)
@click.option(
    "--register-schemas-only",
    is_flag=True,
    help="Register the schemas, print the report and exit (the CI/CD step).",
)
@models_option
@topic_prefix_option
@registration_options
@service_options
@json_option
@logging_options
@click.pass_context
def run(ctx: click.Context, /, **params: Any) -> None:
    """Run Clubhouse: register every schema first, then serve commands from Kafka.

    With no --bootstrap-servers, no --schema-registry-url and no KAFKA_BOOTSTRAP_SERVERS /
    SCHEMA_REGISTRY_URL in the environment, it starts the embedded dev stack instead
    (the same as `clubhouse dev`).

    \b
    Exit codes for --register-schemas-only: 0 every schema registered or already
    present; 1 some failed; 2 configuration error or registry unreachable.

    \b
    Examples:
      clubhouse run                                    # embedded broker + registry
      clubhouse run --bootstrap-servers kafka:9092 --schema-registry-url http://sr:8081
      clubhouse run --register-schemas-only --schema-registry-url http://sr:8081 --json
    """
    if params["register_schemas_only"]:
        if not params["schema_registry_url"]:
            raise click.UsageError(
                "--register-schemas-only needs --schema-registry-url (or SCHEMA_REGISTRY_URL)"
            )
        catalog = build_catalog(params["model_modules"])
        report = register_or_exit(params, catalog)
        ctx.exit(report_and_exit(report, registry_settings(params), params["as_json"]))
    if wants_embedded_stack(params):
        from clubhouse.cli.dev_cmd import run_dev  # noqa: PLC0415 - only for the embedded stack

        run_dev({**params, "data_dir": Path(".clubhouse")}, no_service=False, print_env=False)
        return
    if not params["bootstrap_servers"] or not registry_url(params):
        raise click.UsageError(
            "give both --bootstrap-servers and --schema-registry-url (or neither, for the "
            "embedded dev stack)"
        )
    config = service_config(
        params,
        bootstrap_servers=params["bootstrap_servers"],
        registry=registry_settings(params),
        dev_tuning=False,
        default_state_db=Path(".clubhouse") / "agents.db",
    )
    with shutdown_signals() as stop:
        serve_until_stopped(start_service(config), stop)
