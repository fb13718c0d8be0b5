"""A fleet of ``clubhouse run`` child processes sharing one consumer group.

Each instance has its own state directory, instance id, metrics port and log file; the
fleet starts, kills (-9), pauses (SIGSTOP/SIGCONT) and stops them one at a time. Failures
carry the tail of every instance's log, since a scale-out bug shows in the logs of the
instance that did *not* fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from confluent_kafka.admin import AdminClient

from clubhouse.cli.run_args import InstanceArgs, run_argv
from clubhouse.devstack.ports import pick_free_port

READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
LOG_TAIL_CHARS = 2500


@dataclass
class Instance:
    """One service instance: its fixed arguments and, while it runs, its process."""

    index: int
    args: InstanceArgs
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log yet)"
        return text[-chars:]


@dataclass
class Fleet:
    """N instances of ``clubhouse run`` on one broker, registry and topic prefix."""

    bootstrap: str
    registry_url: str
    prefix: str
    root: Path
    partitions: int = 3
    batch_size: int | None = None
    app_ref: str | None = None  # None: the bundled agents
    peers: dict[str, str] = field(default_factory=dict)
    python_path: list[str] = field(default_factory=list)  # where the app's module is
    instances: dict[int, Instance] = field(default_factory=dict)

    def instance(self, i: int) -> Instance:
        """Instance ``i``, created on first use with its own state dir, id and port."""
        if i not in self.instances:
            args = InstanceArgs(
                bootstrap_servers=self.bootstrap,
                schema_registry_url=self.registry_url,
                topic_prefix=self.prefix,
                state_dir=self.root / f"instance-{i}" / "state",
                instance_id=f"instance-{i}",
                partitions=self.partitions,
                # Fixed for the instance's life, so a restart keeps its address.
                metrics_port=pick_free_port(),
                batch_size=self.batch_size,
                app_ref=self.app_ref,
                peers=self.peers,
            )
            log_path = self.root / f"instance-{i}" / "service.log"
            self.instances[i] = Instance(i, args, log_path)
        return self.instances[i]

    def start(self, i: int, *, fresh_state: bool = False) -> Instance:
        """Start instance ``i`` (again); ``fresh_state`` empties its state dir first."""
        inst = self.instance(i)
        if inst.running:
            raise AssertionError(f"instance-{i} is already running (pid {inst.proc.pid})")  # type: ignore[union-attr]
        if fresh_state:
            shutil.rmtree(inst.args.state_dir, ignore_errors=True)
        inst.args.state_dir.mkdir(parents=True, exist_ok=True)
        inst.starts += 1
        with inst.log_path.open("ab") as log:
            log.write(f"\n=== start {inst.starts} of instance-{i} ===\n".encode())
            log.flush()
            inst.proc = subprocess.Popen(
                run_argv(inst.args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                # Its own session: a Ctrl-C on the test run reaches pytest, which stops us.
                start_new_session=True,
            )
        return inst

    def _env(self) -> dict[str, str]:
        paths = [*self.python_path, os.environ.get("PYTHONPATH", "")]
        return {**os.environ, "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": os.pathsep.join(p for p in paths if p)}  # fmt: skip

    def wait_ready(self, i: int, timeout: float = READY_TIMEOUT_S) -> None:
        """Until instance ``i`` answers 200 on ``/readyz``; fails if it exits first."""
        inst = self.instance(i)
        url = f"http://127.0.0.1:{inst.args.metrics_port}/readyz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not inst.running:
                code = None if inst.proc is None else inst.proc.returncode
                self.fail(f"instance-{i} exited with {code} before it was ready")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.1)
        self.fail(f"instance-{i} was not ready on {url} within {timeout:g} s")

    def wait_topics(self, timeout: float = 60.0) -> None:
        """Until the commands and responses topics exist (clients need both)."""
        wanted = {f"{self.prefix}-commands", f"{self.prefix}-responses"}
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            topics = admin.list_topics(timeout=5).topics
            if all(t in topics and topics[t].error is None for t in wanted):
                return
            time.sleep(0.1)
        self.fail(f"topics {sorted(wanted)} did not appear within {timeout:g} s")

    def start_all(self, indexes: Iterable[int]) -> None:
        """Start these instances, then wait until each is ready and the topics exist."""
        started = list(indexes)
        for i in started:
            self.start(i)
        for i in started:
            self.wait_ready(i)
        self.wait_topics()

    def kill9(self, i: int) -> None:
        """SIGKILL instance ``i``: no clean leave, no flush, no commit."""
        self._signal(i, signal.SIGKILL)
        self._reap(i)

    def sigstop(self, i: int) -> None:
        """Freeze instance ``i`` (it stops heartbeating; the group evicts it later)."""
        self._signal(i, signal.SIGSTOP)

    def sigcont(self, i: int) -> None:
        """Let a frozen instance ``i`` run on."""
        self._signal(i, signal.SIGCONT)

    def terminate(self, i: int) -> int:
        """SIGTERM instance ``i`` and wait for its orderly exit; returns its exit code."""
        self._signal(i, signal.SIGCONT)  # a frozen process cannot handle SIGTERM
        self._signal(i, signal.SIGTERM)
        return self._reap(i)

    def stop_all(self) -> None:
        """Stop every instance still running: SIGTERM, then SIGKILL after a grace period."""
        for i, inst in self.instances.items():
            if inst.running:
                self._signal(i, signal.SIGCONT)
                self._signal(i, signal.SIGTERM)
        for i in self.instances:
            self._reap(i)

    def running(self) -> list[int]:
        """Indexes of the instances whose process is alive."""
        return sorted(i for i, inst in self.instances.items() if inst.running)

    def logs(self) -> str:
        """The tail of every instance's log, one section each."""
        return "\n".join(
            f"----- instance-{i} ({'running' if inst.running else 'stopped'}) -----\n"
            f"{inst.log_tail()}"
            for i, inst in sorted(self.instances.items())
        )

    def fail(self, message: str) -> None:
        """Raise an AssertionError with ``message`` and every instance's log tail."""
        raise AssertionError(f"{message}\n{self.logs()}")

    def _signal(self, i: int, sig: signal.Signals) -> None:
        inst = self.instance(i)
        if inst.proc is not None and inst.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(inst.proc.pid, sig)

    def _reap(self, i: int) -> int:
        inst = self.instance(i)
        if inst.proc is None:
            return 0
        try:
            return inst.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._signal(i, signal.SIGKILL)
            return inst.proc.wait(STOP_TIMEOUT_S)
