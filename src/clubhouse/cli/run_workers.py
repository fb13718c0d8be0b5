"""``clubhouse run --workers N``: N service processes of one consumer group on this machine,
under one supervisor, so that one machine's cores are all used (Python runs one core per
process).

Each worker is the same ``clubhouse run`` command line with its own instance id
(``{instance}-w{i}``, from this machine's kept instance id), its own state directory
(``{state-dir}/worker-{i}``), its own metrics port and log; a worker that dies is restarted
with the same command line and restores its partitions like any instance (the dev stack's
supervisor). Scaling past one machine stays Kafka's consumer group: start the command on
more machines.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import click

from clubhouse.cli.dev_instances import ChildInstances
from clubhouse.cli.run_args import InstanceArgs
from clubhouse.devstack.errors import DevStackError
from clubhouse.devstack.ports import pick_free_port
from clubhouse.devstack.process import ProcessSpec
from clubhouse.devstack.supervisor import Supervisor

log = logging.getLogger(__name__)


def worker_argv(parent: Sequence[str], index: int, *, instance: str, state_dir: Path,
                metrics_port: int) -> list[str]:  # fmt: skip
    """The command line of worker ``index``: the parent's own ``run`` arguments, then the
    ones each worker has to itself (the last of a repeated option wins)."""
    return [
        sys.executable, "-m", "clubhouse.cli.main", *parent,
        "--workers", "1", "--instance-id", f"{instance}-w{index}",
        "--state-dir", str(state_dir / f"worker-{index}"), "--metrics-port", str(metrics_port),
    ]  # fmt: skip


def run_workers(
    count: int, parent: Sequence[str], *, instance: str, state_dir: Path,
    stop: threading.Event,
) -> str | None:  # fmt: skip
    """Run ``count`` workers until ``stop``; why they were given up on, or None."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    specs = []
    for index in range(count):
        port = pick_free_port()
        args = InstanceArgs(
            bootstrap_servers="", schema_registry_url="", topic_prefix="",
            state_dir=state_dir / f"worker-{index}", instance_id=f"{instance}-w{index}",
            metrics_port=port,
        )  # fmt: skip
        argv = worker_argv(parent, index, instance=instance, state_dir=state_dir,
                           metrics_port=port)  # fmt: skip
        log_path = state_dir / f"worker-{index}.log"
        specs.append((args, ProcessSpec(f"worker {index}", tuple(argv), log_path, env=env)))
    workers = ChildInstances(specs)
    with Supervisor(stop) as supervisor:
        try:
            try:
                workers.start()
            except DevStackError as exc:  # a worker that cannot start: one line, no traceback
                return f"a worker did not start: {exc}"
            supervisor.watch(workers.members())
            click.echo(f"{count} workers in one consumer group:\n" + workers.describe(), nl=False)
            stop.wait()
        finally:
            supervisor.halt()
            workers.stop()
        return supervisor.failure
