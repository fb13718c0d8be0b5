"""The command line of one ``clubhouse run`` instance, built in one place.

Everything that starts service instances as child processes (``clubhouse dev --instances``,
the scale-out tests) builds their argv here, so the flags of ``run`` are spelled once.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class InstanceArgs:
    """What one instance of a fleet sharing a consumer group is started with.

    ``state_dir`` is the instance's own directory for its local state; ``instance_id``
    names it in the group and is the base of its transactional id, so it stays the same
    across restarts of the instance.
    """

    bootstrap_servers: str
    schema_registry_url: str
    topic_prefix: str
    state_dir: Path
    instance_id: str
    partitions: int = 3
    metrics_port: int | None = None
    batch_size: int | None = None
    dev_tuning: bool = True
    app_ref: str | None = None
    agent_factory: str | None = None
    model_modules: Sequence[str] = field(default_factory=tuple)
    group_id: str | None = None
    processing_guarantee: str = "exactly-once"
    peers: Mapping[str, str] = field(default_factory=dict)  # --peer NAME=PREFIX
    commit_interval_ms: int = 0


def run_flags(args: InstanceArgs) -> list[str]:
    """The flags after ``clubhouse run`` for ``args``."""
    flags = [
        "--bootstrap-servers", args.bootstrap_servers,
        "--schema-registry-url", args.schema_registry_url,
        "--topic-prefix", args.topic_prefix,
        "--state-dir", str(args.state_dir),
        "--instance-id", args.instance_id,
        "--processing-guarantee", args.processing_guarantee,
        "--partitions", str(args.partitions),
    ]  # fmt: skip
    if args.dev_tuning:
        flags.append("--kafka-dev-tuning")
    if args.metrics_port is not None:
        flags += ["--metrics-port", str(args.metrics_port)]
    if args.batch_size is not None:
        flags += ["--batch-size", str(args.batch_size)]
    optional = {"--app": args.app_ref, "--agent-factory": args.agent_factory,
                "--group-id": args.group_id}  # fmt: skip
    for flag, value in optional.items():
        if value is not None:
            flags += [flag, value]
    for module in args.model_modules:
        flags += ["--models", module]
    for name, prefix in args.peers.items():
        flags += ["--peer", f"{name}={prefix}"]
    if args.commit_interval_ms:
        flags += ["--commit-interval-ms", str(args.commit_interval_ms)]
    return flags


def run_argv(args: InstanceArgs, python: str = sys.executable) -> list[str]:
    """The whole argv that runs one instance with this interpreter."""
    return [python, "-m", "clubhouse.cli.main", "run", *run_flags(args)]
