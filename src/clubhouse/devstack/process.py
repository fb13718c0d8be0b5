"""One supervised child process: started in its own process group with its output in a log
file, waited on until a readiness probe passes, and stopped so that nothing of its group
survives. Broker and registry are both run through this class."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from clubhouse.devstack import parent_death
from clubhouse.devstack.errors import DevStackError, ProcessExitedError, ReadinessTimeoutError

log = logging.getLogger(__name__)

ReadinessProbe = Callable[[], bool]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """What to run: ``component`` names the child in every log line and error message."""

    component: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None  # the child's whole environment; None inherits ours
    cwd: Path | None = None
    stop_signal: signal.Signals = signal.SIGTERM  # the polite request; SIGKILL follows it


class ManagedProcess:
    """A child that is killed with its parent (see ``parent_death``) and stopped as a group."""

    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec
        self._proc: subprocess.Popen[bytes] | None = None
        self._stop_lock = threading.Lock()

    @property
    def component(self) -> str:
        """The name of the component this process runs."""
        return self.spec.component

    @property
    def pid(self) -> int:
        """The process id; an error before it is started."""
        return self._popen().pid

    @property
    def started(self) -> bool:
        """Whether the process was ever started."""
        return self._proc is not None

    def start(self) -> None:
        """Spawn the child; returns at once (see ``wait_ready``)."""
        if parent_death.supported() and threading.current_thread() is not threading.main_thread():
            log.warning(
                "starting a child from a non-main thread: it will be killed when this thread ends",
                extra={"component": self.component, "thread": threading.current_thread().name},
            )
        self._spawn("wb")
        log.info(
            "started",
            extra={"component": self.component, "pid": self.pid, "log": str(self.spec.log_path)},
        )

    def restart(self) -> None:
        """Spawn the exited child again, same spec, its output appended to the same log.

        The log keeps what the last run printed before it died. For a supervisor whose
        thread outlives the child: the child dies with the thread that spawns it.
        """
        if self._proc is not None and not self._has_exited():
            raise DevStackError(f"the {self.component} is still running (pid {self._proc.pid})")
        if self._proc is not None:
            self.reap()
        self._spawn("ab")
        log.info(
            "restarted",
            extra={"component": self.component, "pid": self.pid, "log": str(self.spec.log_path)},
        )

    def _spawn(self, log_mode: Literal["wb", "ab"]) -> None:
        if self._proc is not None and not self._has_exited():
            raise DevStackError(f"the {self.component} is already running (pid {self._proc.pid})")
        self.spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.spec.log_path.open(log_mode) as out:
            self._proc = subprocess.Popen(
                list(self.spec.argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(self.spec.env) if self.spec.env is not None else None,
                cwd=self.spec.cwd,
                # Its own session and process group: a Ctrl-C at the terminal reaches only us,
                # and we stop the children in order, and stop() can signal the whole group.
                start_new_session=True,
                # Thread-safe by construction: see the parent_death module docstring.
                preexec_fn=parent_death.kill_with_parent_preexec(os.getpid()),  # noqa: PLW1509
            )

    def wait_ready(self, probe: ReadinessProbe, description: str, timeout: float) -> float:
        """Poll ``probe`` until it passes; returns the seconds it took.

        Raises ProcessExitedError if the child exits first and ReadinessTimeoutError after
        ``timeout`` seconds; in both cases nothing of the child is left running.
        """
        began = time.monotonic()
        deadline = began + timeout
        delay = 0.01
        while True:
            if self._has_exited():
                raise self._exited_error()
            if probe():
                # The probe may have reached another process on the same port; only a child
                # that is still alive after answering counts as ready.
                if self._has_exited():
                    raise self._exited_error()
                took = time.monotonic() - began
                log.info(
                    "ready",
                    extra={"component": self.component, "pid": self.pid, "seconds": round(took, 3)},
                )
                return took
            if time.monotonic() >= deadline:
                self.stop(grace=1.0)
                raise ReadinessTimeoutError(
                    self.component,
                    timeout,
                    description,
                    self.output_tail(),
                    str(self.spec.log_path),
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def check_alive(self) -> None:
        """Raise ProcessExitedError if the child has exited.

        Safe from a watcher thread: it neither reaps nor signals anything; ``stop`` cleans up.
        """
        code = self._exit_status()
        if code is not None:
            raise ProcessExitedError(
                self.component, code, self.output_tail(), str(self.spec.log_path)
            )

    def exit_status(self) -> int | None:
        """The exit code once the child exited (negative: the signal that killed it), else
        None; neither reaps nor signals anything, so a watcher thread may call it."""
        return self._exit_status() if self._proc is not None else None

    def reap(self) -> int:
        """After the child exited: kill what is left of its group and collect its status."""
        proc = self._popen()
        with self._stop_lock:
            if proc.returncode is None:
                # Unreaped, the leader's pid (the group id) cannot have been reused.
                self._signal_group(signal.SIGKILL)
                proc.wait()
        return proc.returncode

    def is_running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self._proc is not None and not self._has_exited()

    def output_tail(self, lines: int = 15) -> list[str]:
        """The child's last non-empty output lines, without terminal colour codes."""
        try:
            with self.spec.log_path.open("rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - _TAIL_BYTES))
                text = f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        cleaned = [_ANSI.sub("", line).rstrip() for line in text.splitlines()]
        return [line for line in cleaned if line][-lines:]

    def stop(self, grace: float = 5.0) -> int | None:
        """Signal the group (``stop_signal``), SIGKILL what is left after ``grace`` s, reap.

        Returns the exit code, or None if the child was never started. Safe to call twice.
        """
        proc = self._proc
        if proc is None:
            return None
        with self._stop_lock:  # a watcher thread and the main thread may both stop us
            self._stop_locked(proc, grace)
        return proc.returncode

    def _stop_locked(self, proc: subprocess.Popen[bytes], grace: float) -> None:
        if proc.returncode is None:
            if not self._has_exited():
                self._signal_group(self.spec.stop_signal)
                self._wait_exited(grace)
            # The leader is exited but unreaped, so its pid (= the group id) cannot have been
            # reused yet: killing the group now only hits leftovers of this child.
            self._signal_group(signal.SIGKILL)
            proc.wait()
            log.info(
                "stopped",
                extra={"component": self.component, "pid": proc.pid, "returncode": proc.returncode},
            )

    # -- internals ------------------------------------------------------------------------

    def _popen(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise DevStackError(f"the {self.component} has not been started")
        return self._proc

    def _has_exited(self) -> bool:
        return self._exit_status() is not None

    def _exit_status(self) -> int | None:
        """The exit code once the child exited (negative: killed by that signal), else None.

        Where the platform allows, the child is *not* reaped (WNOWAIT): while it is an
        unreaped zombie its pid, which is also its process group id, cannot be reused, so
        signalling the group later can only reach what this child left behind.
        """
        proc = self._popen()
        if proc.returncode is not None:
            return proc.returncode
        if not hasattr(os, "waitid"):
            return proc.poll()
        try:
            info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # reaped elsewhere
            return proc.poll()
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def _wait_exited(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._has_exited():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):  # the group is already empty
            os.killpg(self._popen().pid, sig)

    def _exited_error(self) -> ProcessExitedError:
        code = self.reap()
        return ProcessExitedError(self.component, code, self.output_tail(), str(self.spec.log_path))
