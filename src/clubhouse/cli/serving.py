"""What ``clubhouse run`` and ``clubhouse dev`` share: service flags, config and the run itself."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import click

from clubhouse.agents import builtin_agent_factory
from clubhouse.agents.loading import AgentFactoryError, load_agent_factory
from clubhouse.app import ClubhouseService, ServiceConfig
from clubhouse.cli.options import EXIT_CONFIG, build_catalog, fail, option_group
from clubhouse.cli.register_cmd import render_report
from clubhouse.errors import ClubhouseError
from clubhouse.services.kafka import KafkaSettings
from clubhouse.services.schema_registry import RegistrySettings

# Flags of a running service.
service_options = option_group(
    click.option(
        "--agent-factory",
        metavar="MODULE:CALLABLE",
        envvar="CLUBHOUSE_AGENT_FACTORY",
        help="Build agents with your own factory (takes an AgentSpec, returns an "
        "Agent). Default: the built-in 'assistant' and 'echo' agents.",
    ),
    click.option(
        "--state-db",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="CLUBHOUSE_STATE_DB",
        help="SQLite file with agents and processed commands. Default: .clubhouse/agents.db.",
    ),
    click.option(
        "--metrics-port",
        type=int,
        envvar="CLUBHOUSE_METRICS_PORT",
        help="Serve /metrics, /healthz and /readyz on this port (0: any free port).",
    ),
    click.option(
        "--partitions",
        type=click.IntRange(1, 1000),
        default=3,
        show_default=True,
        help="Partitions of topics the service creates (existing topics are kept).",
    ),
    click.option(
        "--kafka-dev-tuning",
        is_flag=True,
        envvar="CLUBHOUSE_KAFKA_DEV_TUNING",
        help="Short group-join and fetch-wait settings for a dev broker such as Tansu "
        "(3 s instead of 23 s to join). Production keeps librdkafka's defaults.",
    ),
    click.option(
        "--batch-size",
        type=click.IntRange(1, 10_000),
        default=200,
        show_default=True,
        help="Commands handled, published and committed together.",
    ),
    click.option(
        "--group-id",
        envvar="CLUBHOUSE_GROUP_ID",
        help="Consumer group of the service. Default: {topic-prefix}-service.",
    ),
)


def service_config(
    params: dict[str, Any],
    *,
    bootstrap_servers: str,
    registry: RegistrySettings,
    dev_tuning: bool,
    default_state_db: Path,
) -> ServiceConfig:
    """A ServiceConfig from CLI params; bad values are usage errors (exit 2)."""
    try:
        factory = (
            load_agent_factory(params["agent_factory"])
            if params.get("agent_factory")
            else builtin_agent_factory
        )
        kafka = KafkaSettings.from_env(
            bootstrap_servers=bootstrap_servers,
            dev_tuning=dev_tuning or bool(params.get("kafka_dev_tuning")),
        )
    except (AgentFactoryError, ClubhouseError) as exc:
        raise click.UsageError(str(exc)) from exc
    return ServiceConfig(
        kafka=kafka,
        registry=registry,
        catalog=build_catalog(params.get("model_modules", ())),
        topic_prefix=params["topic_prefix"],
        state_db=params.get("state_db") or default_state_db,
        agent_factory=factory,
        group_id=params.get("group_id"),
        partitions=params.get("partitions") or 3,
        batch_size=params.get("batch_size") or 200,
        metrics_port=params.get("metrics_port"),
        registry_wait_s=params.get("registry_wait") or 0.0,
    )


def start_service(config: ServiceConfig) -> ClubhouseService:
    """Start the service and print its registration report; start-up failures exit 2."""
    service = ClubhouseService(config)
    try:
        report = service.start()
    except ClubhouseError as exc:
        service.close()
        fail(f"the service could not start: {exc}", EXIT_CONFIG)
    click.echo(render_report(report, config.registry))
    if service.metrics_port is not None:
        click.echo(f"Metrics and health on http://{config.metrics_host}:{service.metrics_port}")
    return service


def serve_until_stopped(service: ClubhouseService, stop: threading.Event) -> None:
    """Run the service loop in this thread until ``stop`` is set."""
    click.echo(f"Serving commands on {service.config.topic_prefix}-commands. Ctrl-C to stop.")
    service.run(stop)
