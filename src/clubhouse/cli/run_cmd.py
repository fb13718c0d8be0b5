"""``clubhouse run``: register the schemas, then run the service (or only register, for CI/CD).

Which broker and registry, by what was given:

* a registry and a broker: those;
* a registry and no broker: ``KAFKA_BOOTSTRAP_SERVERS`` was not set either, so
  ``localhost:9092``, as Kafka's own tools assume; one log line says so;
* neither: ``clubhouse run`` refuses (exit 2) and points at ``clubhouse dev``, so that one
  missing variable in production cannot give a healthy-looking pod on an in-memory broker;
  ``scripts/run_clubhouse.py`` starts the embedded dev stack instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import click

from clubhouse.cli.connection import DEV_DIR, BrokerOptions, RegistryOptions
from clubhouse.cli.options import (
    EXIT_FAILED,
    broker_options,
    check_registry_reachable,
    fail,
    json_option,
    load_app_option,
    logging_options,
    models_option,
    registry_options,
    topic_prefix_option,
)
from clubhouse.cli.register_cmd import (
    RegistrationOptions,
    register_and_report,
    registration_option_group,
)
from clubhouse.cli.serving import (
    ServiceOptions,
    serve_until_stopped,
    service_config,
    service_options,
    start_service,
)

log = logging.getLogger(__name__)

NOTHING_CONFIGURED = (
    "no broker and no schema registry given: pass --bootstrap-servers and "
    "--schema-registry-url, or set KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL. "
    "For a local stack with no infrastructure, run `clubhouse dev`"
)


@dataclass(frozen=True, slots=True)
class RunMode:
    """How the entry point behaves when nothing is configured (``ctx.obj``)."""

    embedded_when_unconfigured: bool = False


def resolve_broker(broker: BrokerOptions) -> BrokerOptions:
    """The broker to use beside a given registry; logs which one and why, and probes it."""
    from clubhouse.cli.probe import ProbeError, probe_brokers  # noqa: PLC0415

    chosen = broker.or_default()
    assert chosen.bootstrap_servers is not None
    log.info(
        "using Kafka broker %s (%s)",
        chosen.bootstrap_servers,
        chosen.why(),
        extra={"bootstrap_servers": chosen.bootstrap_servers, "source": chosen.source},
    )
    try:
        probe_brokers(chosen.bootstrap_servers, named_by=chosen.why())
    except ProbeError as exc:
        fail(str(exc))
    return chosen


@click.command("run")
@broker_options(dev_stack=False)
@registry_options(
    required=False, default="none; with --register-schemas-only, the dev stack running here"
)
@click.option(
    "--register-schemas-only",
    is_flag=True,
    help="Register the schemas, print the report and exit (the CI/CD step).",
)
@models_option
@topic_prefix_option
@registration_option_group("--register-workers")
@service_options
@click.option(
    "--workers",
    "worker_processes",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    envvar="CLUBHOUSE_WORKERS",
    help="Service processes of one consumer group on this machine, under one supervisor, "
    "each with its own instance id ({instance-id}-w{i}), state under --state-dir/worker-{i} "
    "and log there; a worker that dies is restarted. Python uses one core per process: "
    "this is how one machine's cores are all used.",
)
@json_option
@logging_options
@click.pass_context
def run(
    ctx: click.Context,
    /,
    *,
    broker: BrokerOptions,
    registry: RegistryOptions,
    register_schemas_only: bool,
    model_modules: tuple[str, ...],
    topic_prefix: str,
    registration: RegistrationOptions,
    service: ServiceOptions,
    worker_processes: int,
    as_json: bool,
) -> None:
    """Run Clubhouse: register every schema first, then serve commands from Kafka.

    It needs a schema registry (--schema-registry-url or SCHEMA_REGISTRY_URL). The broker is
    --bootstrap-servers, else KAFKA_BOOTSTRAP_SERVERS, else localhost:9092; if nothing
    answers there it exits 2 at once. With neither a broker nor a registry it exits 2: run
    `clubhouse dev` for the embedded stack. --register-schemas-only needs only the registry,
    and finds the dev stack running from this directory when none is given.

    \b
    Exit codes: 0 stopped cleanly, or (--register-schemas-only) every schema registered
    or already present; 1 some failed; 2 configuration error, broker or registry
    unreachable.

    \b
    Examples:
      clubhouse run --bootstrap-servers kafka:9092 --schema-registry-url http://sr:8081
      SCHEMA_REGISTRY_URL=http://sr:8081 clubhouse run      # broker: localhost:9092
      clubhouse run --register-schemas-only --url http://sr:8081 --json
      clubhouse run --app orders_app:app --schema-registry-url http://sr:8081

    \b
    Scaling out: start the same command on several machines (or pods), each with its own
    --state-dir and --instance-id; they share the partitions of one consumer group.
      clubhouse run --bootstrap-servers kafka:9092 --schema-registry-url http://sr:8081 \\
        --state-dir /var/lib/clubhouse --instance-id orders-0 --partitions 12
      clubhouse dev --instances 3                           # no infrastructure at all
      clubhouse run --workers 2 --bootstrap-servers kafka:9092 --schema-registry-url \\
        http://sr:8081                                      # both cores of this machine
    """
    if register_schemas_only:
        ctx.exit(
            register_and_report(
                registry,
                registration,
                model_modules=model_modules,
                topic_prefix=topic_prefix,
                as_json=as_json,
                app_ref=service.app_ref,
            )
        )
    if not broker.bootstrap_servers and not registry.url:
        mode = ctx.find_object(RunMode) or RunMode()
        if not mode.embedded_when_unconfigured:
            fail(NOTHING_CONFIGURED)
        from clubhouse.cli.dev_cmd import DevStackOptions, run_dev  # noqa: PLC0415

        run_dev(
            DevStackOptions(),
            service,
            model_modules=model_modules,
            topic_prefix=topic_prefix,
            no_service=False,
            print_env=False,
        )
        return
    if not registry.url:
        fail(
            f"no schema registry given (the broker is {broker.bootstrap_servers}, "
            f"{broker.why()}): pass --schema-registry-url or set SCHEMA_REGISTRY_URL"
        )
    # A mistake in --app is the user's to fix first, before any network is probed; the
    # import is cached, so service_config below gets the same module again for free.
    load_app_option(service.app_ref)
    check_registry_reachable(registry)
    chosen = resolve_broker(broker)
    assert chosen.bootstrap_servers is not None
    from clubhouse.devstack.runner import shutdown_signals  # noqa: PLC0415 - heavy import

    if worker_processes > 1:
        _serve_workers(worker_processes, service)
        return
    config = service_config(
        service,
        model_modules=model_modules,
        topic_prefix=topic_prefix,
        bootstrap_servers=chosen.bootstrap_servers,
        registry=registry.settings(),
        registry_wait_s=registry.wait_s,
        dev_tuning=False,
        default_state_dir=DEV_DIR / "state",
    )
    with shutdown_signals() as stop:
        serve_until_stopped(start_service(config), stop)


def _serve_workers(count: int, service: ServiceOptions) -> None:
    """``--workers``: this process supervises ``count`` copies of its own command line."""
    import sys  # noqa: PLC0415

    from clubhouse.cli.run_workers import run_workers  # noqa: PLC0415
    from clubhouse.devstack.runner import shutdown_signals  # noqa: PLC0415
    from clubhouse.runtime.transactional_id import instance_id_for  # noqa: PLC0415

    parent = sys.argv[1:]
    if not parent or parent[0] != "run":
        fail("--workers is for `clubhouse run`; start the workers with it")
    state_dir = service.state_dir or DEV_DIR / "state"
    # This machine's kept id: two machines running --workers never share transactional ids.
    instance = instance_id_for(state_dir, service.instance_id)
    with shutdown_signals() as stop:
        failure = run_workers(count, parent, instance=instance, state_dir=state_dir, stop=stop)
    if failure is not None:
        fail(failure, EXIT_FAILED)
