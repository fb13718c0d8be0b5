"""What ``clubhouse run`` and ``clubhouse dev`` share: service flags, config and the run itself."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from clubhouse.cli.options import (
    EXIT_CONFIG,
    EXIT_FAILED,
    app_option,
    build_catalog,
    collapse,
    cwd_on_sys_path,
    fail,
    load_app_option,
    option_group,
    prefix_for,
    syntax_error_message,
)
from clubhouse.cli.register_cmd import render_report

if TYPE_CHECKING:
    from clubhouse.app import ClubhouseService, ServiceConfig
    from clubhouse.services.registry_settings import RegistrySettings


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """The flags of a running service, shared by ``run`` and ``dev``."""

    app_ref: str | None = None
    agent_factory: str | None = None
    state_dir: Path | None = None
    processing_guarantee: str = "exactly-once"
    instance_id: str | None = None
    metrics_port: int | None = None
    partitions: int = 3
    replication_factor: int = -1
    kafka_dev_tuning: bool = False
    batch_size: int = 200
    group_id: str | None = None
    dedupe_window_ids: int = 16
    dedupe_window_seconds: float = 86400.0
    partitioner: str = "murmur2"
    handler_timeout: float = 30.0
    peer: tuple[str, ...] = ()
    commit_interval_ms: int = 0


_SERVICE_PARAMS = (
    "app_ref", "agent_factory", "state_dir", "processing_guarantee", "instance_id",
    "metrics_port", "partitions", "replication_factor", "kafka_dev_tuning", "batch_size",
    "group_id", "dedupe_window_ids", "dedupe_window_seconds", "partitioner",
    "handler_timeout", "peer", "commit_interval_ms",
)  # fmt: skip

service_options = option_group(
    collapse("service", _SERVICE_PARAMS, lambda _ctx, values: ServiceOptions(**values)),
    app_option,
    click.option(
        "--agent-factory",
        metavar="MODULE:CALLABLE",
        envvar="CLUBHOUSE_AGENT_FACTORY",
        help="Without --app: build agents with your own factory (takes an AgentSpec, "
        "returns an Agent). Default: the built-in 'assistant' and 'echo' agents.",
    ),
    click.option(
        "--state-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="CLUBHOUSE_STATE_DIR",
        help="Local copies of the state of the partitions this instance owns (a cache of the "
        "changelog topic; an empty one is rebuilt from Kafka). One per instance. "
        "Default: .clubhouse/state.",
    ),
    click.option(
        "--processing-guarantee",
        type=click.Choice(["exactly-once", "at-least-once"]),
        default="exactly-once",
        show_default=True,
        envvar="CLUBHOUSE_PROCESSING_GUARANTEE",
        help="exactly-once: each batch's outputs, state changes and offsets commit in one "
        "Kafka transaction. at-least-once: idempotent producer, then offset commit; a crash "
        "may publish a batch's outputs twice (with the same message ids).",
    ),
    click.option(
        "--instance-id",
        envvar="CLUBHOUSE_INSTANCE_ID",
        help="This instance's name in the group, the base of its transactional id; keep it "
        "across restarts. Default: one made up on first start and kept in --state-dir.",
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
        help="Partitions of topics the service creates (existing topics are kept). More "
        "partitions, more instances that can share the work.",
    ),
    click.option(
        "--replication-factor",
        type=click.IntRange(-1, 100),
        default=-1,
        show_default=True,
        envvar="CLUBHOUSE_REPLICATION_FACTOR",
        help="Replicas of each topic the service creates, the state changelog among them "
        "(-1: the broker's default).",
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
    click.option(
        "--dedupe-window-ids",
        type=click.IntRange(1, 10_000),
        default=16,
        show_default=True,
        help="Recent command ids each key remembers: a repeat is answered from the stored "
        "outputs instead of acting again.",
    ),
    click.option(
        "--dedupe-window-seconds",
        type=click.FloatRange(1, None),
        default=86400.0,
        show_default=True,
        help="How long each key remembers a command id.",
    ),
    click.option(
        "--partitioner",
        type=click.Choice(["murmur2", "crc32"]),
        default="murmur2",
        show_default=True,
        envvar="CLUBHOUSE_PARTITIONER",
        help="How your producers place keyed commands. murmur2: the Java client's and Kafka "
        "Streams' default (librdkafka's partitioner=murmur2_random). crc32: librdkafka's own "
        "default (consistent_random), as a plain confluent-kafka Producer({}) or kcat uses. "
        "A command found in a partition that does not own its key is forwarded to the one "
        "that does, at the cost of one more hop; pick the one your producers use.",
    ),
    click.option(
        "--handler-timeout",
        type=click.FloatRange(0.1, None),
        default=30.0,
        show_default=True,
        envvar="CLUBHOUSE_HANDLER_TIMEOUT",
        help="Seconds one command's handler may run. An async handler past it is cancelled; "
        "a sync one is given up (its thread abandoned); either way its command is answered "
        "handler_timeout and nothing it did is kept. After 4 abandoned threads the instance "
        "exits 1 for its supervisor to restart it.",
    ),
    click.option(
        "--commit-interval-ms",
        type=click.IntRange(0, 60_000),
        default=0,
        show_default=True,
        envvar="CLUBHOUSE_COMMIT_INTERVAL_MS",
        help="Commit the batches polled within this many ms in one transaction, as Kafka "
        "Streams' commit.interval.ms does: fewer transactions and changelog records, more "
        "throughput, answers up to this much later. 0: commit each polled batch (lowest "
        "latency).",
    ),
    click.option(
        "--peer",
        multiple=True,
        metavar="NAME=PREFIX",
        envvar="CLUBHOUSE_PEERS",
        help="Another app, named in your code by the prefix NAME (source=NAME, "
        "ctx.send(..., to=NAME)), is served under the topic prefix PREFIX; repeat for each. "
        "Default: as written. Example: --peer inventory=staging-inventory "
        "(CLUBHOUSE_PEERS: space-separated).",
    ),
)


def parse_peers(values: tuple[str, ...]) -> dict[str, str]:
    """``NAME=PREFIX`` values as a mapping; a malformed one is a usage error (exit 2)."""
    peers: dict[str, str] = {}
    for value in values:
        name, sep, prefix = value.partition("=")
        if not sep or not name.strip() or not prefix.strip():
            raise click.UsageError(f"--peer {value!r}: expected NAME=PREFIX, as in "
                                   "--peer inventory=staging-inventory")  # fmt: skip
        peers[name.strip()] = prefix.strip()
    return peers


def service_config(
    service: ServiceOptions,
    *,
    model_modules: tuple[str, ...],
    topic_prefix: str,
    bootstrap_servers: str,
    registry: RegistrySettings,
    registry_wait_s: float,
    dev_tuning: bool,
    default_state_dir: Path,
) -> ServiceConfig:
    """A ServiceConfig from CLI options; bad values are usage errors (exit 2)."""
    from clubhouse.agents import builtin_agent_factory  # noqa: PLC0415 - heavy imports
    from clubhouse.agents.loading import AgentFactoryError, load_agent_factory  # noqa: PLC0415
    from clubhouse.app import ServiceConfig  # noqa: PLC0415
    from clubhouse.errors import ClubhouseError  # noqa: PLC0415
    from clubhouse.messaging.entries import DedupeWindow  # noqa: PLC0415
    from clubhouse.services.kafka import KafkaSettings  # noqa: PLC0415

    app = load_app_option(service.app_ref)
    if app is not None and service.agent_factory:
        raise click.UsageError("--agent-factory configures the built-in agents; not with --app")
    try:
        if service.agent_factory:
            cwd_on_sys_path()
            factory = load_agent_factory(service.agent_factory)
        else:
            factory = builtin_agent_factory
        kafka = KafkaSettings.from_env(
            bootstrap_servers=bootstrap_servers,
            dev_tuning=dev_tuning or service.kafka_dev_tuning,
            partitioner=service.partitioner,
        )
    except (AgentFactoryError, ClubhouseError) as exc:
        raise click.UsageError(str(exc)) from exc
    except SyntaxError as exc:
        message = syntax_error_message(f"--agent-factory {service.agent_factory!r}", exc)
        raise click.UsageError(message) from exc
    return ServiceConfig(
        kafka=kafka,
        registry=registry,
        app=app,
        catalog=build_catalog(model_modules, app=app),
        topic_prefix=prefix_for(app, topic_prefix),
        peers=parse_peers(service.peer),
        state_dir=service.state_dir or default_state_dir,
        processing_guarantee="at-least-once"
        if service.processing_guarantee == "at-least-once"
        else "exactly-once",
        instance_id=service.instance_id,
        agent_factory=factory,
        group_id=service.group_id,
        partitions=service.partitions,
        replication_factor=service.replication_factor,
        dedupe_window=DedupeWindow(service.dedupe_window_ids, service.dedupe_window_seconds),
        batch_size=service.batch_size,
        commit_interval_ms=service.commit_interval_ms,
        metrics_port=service.metrics_port,
        registry_wait_s=registry_wait_s,
        handler_timeout_s=service.handler_timeout,
    )


def start_service(config: ServiceConfig) -> ClubhouseService:
    """Start the service and print its registration report; start-up failures exit 2."""
    from clubhouse.app import ClubhouseService  # noqa: PLC0415 - heavy import
    from clubhouse.errors import ClubhouseError  # noqa: PLC0415

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
    from clubhouse.runtime.batch_worker import HandlersStuckError  # noqa: PLC0415
    from clubhouse.services.kafka_errors import KafkaClientError  # noqa: PLC0415

    click.echo(f"Serving commands on {service.config.topic_prefix}-commands. Ctrl-C to stop.")
    try:
        service.run(stop)
    except (KafkaClientError, HandlersStuckError) as exc:
        # Only fatal errors get here (the loop retries the others); liveness is red and the
        # reason logged, and a non-zero exit lets the supervisor act.
        fail(f"the service stopped: {exc}", EXIT_FAILED)
