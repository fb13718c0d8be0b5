"""The extra service instances of ``clubhouse dev --instances N``, as supervised children.

Instance 1 runs inside ``clubhouse dev`` (a child too with ``--reload``, so that it can be
started again on new code); instances 2..N are ``clubhouse run`` child
processes in the same consumer group, each with its own state directory
(``{data_dir}/state/instance-{i}``), instance id (``instance-{i}``), free metrics port (its
``/readyz`` is the readiness probe) and log (``{data_dir}/logs/instance-{i}.log``). They are
started and stopped like the broker and the registry; one that dies is restarted with the
same command line (see ``clubhouse.devstack.supervisor``).
"""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clubhouse.cli.run_args import InstanceArgs, run_argv
from clubhouse.devstack.ports import pick_free_port
from clubhouse.devstack.process import ManagedProcess, ProcessSpec
from clubhouse.devstack.supervisor import Member

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0
PortPicker = Callable[[], int]


@dataclass(frozen=True, slots=True)
class FleetTemplate:
    """What every instance shares: the stack it runs on and the service flags it was given."""

    data_dir: Path
    bootstrap_servers: str
    schema_registry_url: str
    topic_prefix: str
    partitions: int = 3
    batch_size: int | None = None
    app_ref: str | None = None
    agent_factory: str | None = None
    model_modules: Sequence[str] = ()
    group_id: str | None = None
    peers: Mapping[str, str] = field(default_factory=dict)
    commit_interval_ms: int = 0


def instance_args(template: FleetTemplate, index: int, metrics_port: int) -> InstanceArgs:
    """The arguments of instance ``index`` (1-based) of the fleet."""
    return InstanceArgs(
        bootstrap_servers=template.bootstrap_servers,
        schema_registry_url=template.schema_registry_url,
        topic_prefix=template.topic_prefix,
        state_dir=template.data_dir / "state" / f"instance-{index}",
        instance_id=f"instance-{index}",
        partitions=template.partitions,
        metrics_port=metrics_port,
        batch_size=template.batch_size,
        dev_tuning=True,
        app_ref=template.app_ref,
        agent_factory=template.agent_factory,
        model_modules=tuple(template.model_modules),
        group_id=template.group_id,
        peers=template.peers,
        commit_interval_ms=template.commit_interval_ms,
    )


def child_specs(
    template: FleetTemplate, count: int, pick_port: PortPicker = pick_free_port, *,
    first: int = 2,
) -> list[tuple[InstanceArgs, ProcessSpec]]:  # fmt: skip
    """Arguments and process specs of instances ``first``..``count`` (by default instance 1
    runs in-process; with ``--reload`` it is a child too)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    specs = []
    for index in range(first, count + 1):
        args = instance_args(template, index, pick_port())
        spec = ProcessSpec(
            component=f"service {args.instance_id}",
            argv=run_argv(args),
            log_path=template.data_dir / "logs" / f"{args.instance_id}.log",
            env=env,
        )
        specs.append((args, spec))
    return specs


def _ready_probe(port: int) -> Callable[[], bool]:
    url = f"http://127.0.0.1:{port}/readyz"

    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    return probe


class ChildInstances:
    """Service instances 2..N: started and awaited in order, stopped all together."""

    def __init__(self, specs: Sequence[tuple[InstanceArgs, ProcessSpec]]) -> None:
        self._children = [(args, ManagedProcess(spec)) for args, spec in specs]

    @property
    def processes(self) -> list[ManagedProcess]:
        """The child processes, started or not."""
        return [process for _, process in self._children]

    def start(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Start every instance, then wait until each answers ``/readyz``; all or nothing."""
        try:
            for _, process in self._children:
                process.start()
            for args, process in self._children:
                assert args.metrics_port is not None
                process.wait_ready(
                    _ready_probe(args.metrics_port), f"/readyz on port {args.metrics_port}", timeout
                )
        except BaseException:
            self.stop()
            raise

    def members(self) -> list[Member]:
        """The started instances as supervised members: each is restarted when it dies."""
        return [
            Member(process, restartable=True, ready=_ready_probe(args.metrics_port))
            for args, process in self._children
            if process.started and args.metrics_port is not None
        ]

    def describe(self) -> str:
        """One line per child instance: its id, pid, state directory and log."""
        return "".join(
            f"Service {args.instance_id:<12} pid {process.pid}, state {args.state_dir}/, "
            f"log {process.spec.log_path}\n"
            for args, process in self._children
            if process.started
        )

    def stop(self) -> None:
        """Stop every started instance (SIGTERM, then SIGKILL); safe to call twice."""
        for _, process in self._children:
            try:
                process.stop()
            except Exception:  # one failing stop must not leave the others running
                log.exception("could not stop", extra={"component": process.component})
