"""`clubhouse dev --instances N` survives its members: a killed instance is logged in one
line and restarted with its own id and state, the stack keeps answering, and `dev` exits
non-zero only when a member keeps failing (0 on SIGTERM)."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest

from clubhouse.agents.messages import AgentCreatedResponse, CreateAgentCommand
from clubhouse.cli.connection import read_dev_env
from clubhouse.client import ClubhouseClient
from clubhouse.devstack.kafka_ready import broker_ids
from clubhouse.services.kafka import KafkaSettings
from clubhouse.services.partitioning import partition_for
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings
from tests.integration.dev.test_dev_command import CLI, assert_gone, clean_env, start

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PARTITIONS = 3
RESTART_WAIT_S = 120.0


def instance(proc: subprocess.Popen[str], instance_id: str) -> psutil.Process | None:
    """The running child of ``dev`` that is service instance ``instance_id``, if any."""
    for kid in psutil.Process(proc.pid).children(recursive=True):
        try:
            argv = kid.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "--instance-id" in argv and argv[argv.index("--instance-id") + 1] == instance_id:
            return kid
    return None


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def keys_over_all_partitions(per_partition: int = 3) -> list[str]:
    """Agent ids, ``per_partition`` of them in each partition of the commands topic."""
    found: dict[int, list[str]] = {p: [] for p in range(PARTITIONS)}
    n = 0
    while any(len(keys) < per_partition for keys in found.values()):
        key = f"failover-{n}"
        bucket = found[partition_for(key.encode(), PARTITIONS)]
        if len(bucket) < per_partition:
            bucket.append(key)
        n += 1
    return [key for keys in found.values() for key in keys]


def connect(cwd: Path) -> ClubhouseClient:
    env = read_dev_env(cwd / ".clubhouse" / "dev.env")
    registry = ConfluentSchemaRegistry.from_settings(
        RegistrySettings(urls=[env["SCHEMA_REGISTRY_URL"]])
    )
    kafka = KafkaSettings(env["KAFKA_BOOTSTRAP_SERVERS"], client_id="failover", dev_tuning=True)
    return ClubhouseClient.connect(kafka, registry)


def wait_for_restart(proc: subprocess.Popen[str], instance_id: str, old_pid: int) -> psutil.Process:
    """The restarted instance, once its /readyz answers 200."""
    deadline = time.monotonic() + RESTART_WAIT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, "dev stopped instead of restarting the instance"
        kid = instance(proc, instance_id)
        if kid is not None and kid.pid != old_pid:
            port = flag(kid.cmdline(), "--metrics-port")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    return kid
            except httpx.TransportError:
                pass
        time.sleep(0.5)
    pytest.fail(f"{instance_id} was not restarted and ready again")


def test_kill9_of_an_instance_restarts_it_and_every_key_is_answered(tmp_path: Path) -> None:
    proc, out = start([*CLI, "dev", "--instances", "3"], tmp_path)
    kids = psutil.Process(proc.pid).children(recursive=True)
    try:
        victim = instance(proc, "instance-2")
        assert victim is not None, [k.cmdline() for k in kids]
        state_dir = flag(victim.cmdline(), "--state-dir")
        victim.kill()
        keys = keys_over_all_partitions()
        with connect(tmp_path) as client:
            commands = [CreateAgentCommand(agent_id=k, personality_type="echo") for k in keys]
            answers = client.request_many(commands, timeout=RESTART_WAIT_S)
        assert all(isinstance(answers[c.message_id], AgentCreatedResponse) for c in commands)
        restarted = wait_for_restart(proc, "instance-2", victim.pid)
        assert flag(restarted.cmdline(), "--state-dir") == state_dir  # restored as usual
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(90)
    printed = out.read_text()
    assert code == 0, printed[-3000:]
    died = [line for line in printed.splitlines() if f"pid={victim.pid}" in line and "died" in line]
    assert len(died) == 1, printed[-3000:]
    line = died[0]
    assert "instance-2" in line and "signal=SIGKILL" in line, line
    assert "log=.clubhouse/logs/instance-2.log" in line, line
    assert len(line) < 400 and "\\n" not in line, line  # a line, not a dump of its log
    assert_gone([*kids, restarted])


CRASHING_FACTORY = """\
import os
import sys

from clubhouse.agents import builtin_agent_factory

# A bug that shows only in a restarted `clubhouse run` child, not in `dev` itself.
if os.path.exists("crash-on-start") and "run" in sys.argv:
    sys.exit(3)

make = builtin_agent_factory
"""


def test_an_instance_that_keeps_dying_stops_dev_with_a_failure(tmp_path: Path) -> None:
    (tmp_path / "crashing.py").write_text(CRASHING_FACTORY)
    proc, out = start(
        [*CLI, "dev", "--instances", "2", "--agent-factory", "crashing:make"], tmp_path
    )
    kids = psutil.Process(proc.pid).children(recursive=True)
    victim = instance(proc, "instance-2")
    assert victim is not None, [k.cmdline() for k in kids]
    (tmp_path / "crash-on-start").write_text("")
    victim.kill()
    try:
        code = proc.wait(RESTART_WAIT_S)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        proc.wait(90)
        pytest.fail(f"dev kept running:\n{out.read_text()[-3000:]}")
    printed = out.read_text()
    assert code == 1, printed[-3000:]
    assert re.search(r"died.*instance-2.*returncode=3", printed), printed[-3000:]
    errors = [line for line in printed.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "instance-2" in errors[0], printed[-3000:]
    assert "keeps failing" in errors[0], errors
    assert_gone(kids)


def test_the_registry_is_essential_its_death_stops_dev_with_a_failure(tmp_path: Path) -> None:
    out = tmp_path / "dev.out"
    proc = subprocess.Popen(
        [*CLI, "dev", "--no-service"], cwd=tmp_path, env=clean_env(), text=True,
        stdout=out.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "Press Ctrl-C to stop." not in out.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, out.read_text()
        time.sleep(0.2)
    kids = psutil.Process(proc.pid).children(recursive=True)
    registry = [k for k in kids if "registry" in k.cmdline() and "serve" in k.cmdline()]
    assert len(registry) == 1, [k.cmdline() for k in kids]
    registry[0].kill()
    try:
        code = proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        pytest.fail(f"dev kept running without its registry:\n{out.read_text()[-3000:]}")
    printed = out.read_text()
    assert code == 1, printed[-3000:]
    errors = [line for line in printed.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, printed[-3000:]
    assert f"the schema registry (pid {registry[0].pid}) was killed by SIGKILL" in errors[0]
    assert "log: .clubhouse/logs/registry.log" in errors[0], errors
    assert_gone(kids)


@pytest.mark.parametrize("broker_kind", ["kafka"], indirect=True)
def test_a_killed_node_of_a_kafka_cluster_is_restarted_with_its_id_and_data(
    broker_kind: str, tmp_path: Path
) -> None:
    out = tmp_path / "dev.out"
    proc = subprocess.Popen(
        [*CLI, "dev", "--broker", broker_kind, "--kafka-brokers", "3", "--no-service"],
        cwd=tmp_path, env=clean_env(), text=True, stdout=out.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while "Press Ctrl-C to stop." not in out.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, out.read_text()[-3000:]
            time.sleep(0.5)
        bootstrap = read_dev_env(tmp_path / ".clubhouse" / "dev.env")["KAFKA_BOOTSTRAP_SERVERS"]
        victim = node(proc, 2)
        assert victim is not None
        argv = victim.cmdline()
        victim.kill()
        deadline = time.monotonic() + 300
        while not ready_again(out, node(proc, 2), victim.pid):
            assert proc.poll() is None, out.read_text()[-3000:]
            assert time.monotonic() < deadline, out.read_text()[-3000:]
            time.sleep(1)
        restarted = node(proc, 2)
        assert restarted is not None
        assert restarted.cmdline() == argv  # the same node id, ports and data dir
        while broker_ids(bootstrap) != {1, 2, 3}:
            assert time.monotonic() < deadline, out.read_text()[-3000:]
            time.sleep(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(120)
    printed = out.read_text()
    assert code == 0, printed[-3000:]
    died = [line for line in printed.splitlines() if f"pid={victim.pid}" in line and "died" in line]
    assert len(died) == 1 and "node 2" in died[0] and "signal=SIGKILL" in died[0], printed[-3000:]
    assert "log=.clubhouse/logs/kafka-2.log" in died[0], died


def node(proc: subprocess.Popen[str], node_id: int) -> psutil.Process | None:
    """The running Kafka JVM of node ``node_id`` among the children of ``dev``."""
    for kid in psutil.Process(proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            args = kid.cmdline()  # empty for a child caught between fork and exec, or a zombie
            if args and args[-1].endswith(f"node-{node_id}.properties"):
                return kid
    return None


def ready_again(out: Path, restarted: psutil.Process | None, old_pid: int) -> bool:
    """Whether ``dev`` logged the restarted process (not ``old_pid``) as ready again."""
    if restarted is None or restarted.pid == old_pid:
        return False
    return any(
        "ready again" in line and f"pid={restarted.pid}" in line
        for line in out.read_text().splitlines()
    )
