"""Watching the dev stack's members: restart those it can live without for a moment, stop
the stack when an essential one dies or a restartable one keeps failing.

Every death is one log line (what died, its pid, its exit code or signal, where its log
is). A restartable member (a service instance, a node of a multi-node Kafka cluster) is
started again with the very same command line, so it keeps its id, its port and its data
or state directory; ``restarts.RestartPolicy`` bounds how often. An essential one (the
registry, a single broker) dying stops the stack, and ``failure`` says why, so that the
command can exit non-zero.

Restarts are spawned from the supervisor's own thread, and a child dies with the thread
that spawned it (``parent_death``). So the thread outlives the children: ``halt`` ends the
watching (nothing is restarted after it returns) but keeps the thread, and only ``close``,
called once the children are stopped, lets it end.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType

from clubhouse.devstack.errors import DevStackError
from clubhouse.devstack.process import ManagedProcess, ReadinessProbe
from clubhouse.devstack.restarts import RestartPolicy, RestartTracker

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Member:
    """One supervised child, whether it may be restarted, and how to tell it is ready."""

    process: ManagedProcess
    restartable: bool
    ready: ReadinessProbe

    @property
    def name(self) -> str:
        """The member's name in log lines and messages."""
        return self.process.component


def exit_fields(code: int) -> dict[str, object]:
    """How a child ended, as log fields: ``returncode`` or the ``signal`` that killed it."""
    if code < 0:
        try:
            return {"signal": signal.Signals(-code).name}
        except ValueError:
            return {"signal": -code}
    return {"returncode": code}


def describe_exit(code: int) -> str:
    """How a child ended, in words: "exited with code 3" or "was killed by SIGKILL"."""
    fields = exit_fields(code)
    return f"was killed by {fields['signal']}" if "signal" in fields else f"exited with code {code}"


@dataclass
class _Watched:
    member: Member
    tracker: RestartTracker | None  # None: essential
    restart_at: float | None = None  # set while a dead member waits for its restart
    reload: bool = False  # asked to restart (its code changed), not dead


class Supervisor:
    """Watches members from one thread; a context manager that closes it."""

    def __init__(
        self,
        stop: threading.Event,
        policy: RestartPolicy | None = None,
        *,
        interval_s: float = 0.5,
        clock: Clock = time.monotonic,
    ) -> None:
        self._stop = stop
        self._policy = policy or RestartPolicy()
        self._interval_s = interval_s
        self._clock = clock
        self._watched: list[_Watched] = []
        self._lock = threading.Lock()  # one tick's actions, or halt, at a time
        self._halted = False
        self._released = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: str | None = None  # why the supervisor stopped the stack

    def watch(self, members: Iterable[Member]) -> None:
        """Watch ``members`` (already started and ready) from now on."""
        with self._lock:
            now = self._clock()
            for member in members:
                tracker = RestartTracker(self._policy, now) if member.restartable else None
                self._watched.append(_Watched(member, tracker))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="devstack-supervisor", daemon=True
                )
                self._thread.start()

    def reload(self, processes: Iterable[ManagedProcess]) -> None:
        """Restart these restartable members at the next look, from the watching thread
        (children die with the thread that spawns them): stopped, then started again with
        the same command line. Asked for, so not counted as a death."""
        wanted = set(map(id, processes))
        with self._lock:
            for watched in self._watched:
                if id(watched.member.process) in wanted and watched.tracker is not None:
                    watched.reload = True

    def halt(self) -> None:
        """Stop watching: once this returns, no member is restarted any more."""
        with self._lock:
            self._halted = True

    def close(self) -> None:
        """Halt and let the thread end; call it once the children are stopped."""
        self.halt()
        self._released.set()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the watching thread ----------------------------------------------------------------

    def _run(self) -> None:
        # Until close(), not until halt(): the children spawned here die with this thread.
        while not self._released.wait(self._interval_s):
            with self._lock:
                if self._halted or self._stop.is_set():
                    continue
                try:
                    self.tick()
                except Exception as exc:  # an unwatched stack must not go on looking fine
                    log.exception("the dev-stack supervisor failed; stopping the dev stack")
                    self.failure = f"the dev-stack supervisor failed: {exc}"
                    self._stop.set()

    def tick(self) -> None:
        """One look at every member (the thread calls it; tests may call it directly)."""
        now = self._clock()
        for watched in self._watched:
            if self._stop.is_set():
                return
            if watched.reload and self._may_reload(watched):
                self._reload(watched, now)
                continue
            if watched.restart_at is not None:
                if now >= watched.restart_at:
                    self._restart(watched, now)
                continue
            code = watched.member.process.exit_status()
            if code is None:
                if watched.tracker is not None and not watched.tracker.ready:
                    self._check_ready(watched)
                continue
            watched.member.process.reap()
            self._died(watched, code, now)

    def _died(self, watched: _Watched, code: int, now: float) -> None:
        member = watched.member
        fields: dict[str, object] = {
            "component": member.name,
            "pid": member.process.pid,
            **exit_fields(code),
            "log": str(member.process.spec.log_path),
        }
        if watched.tracker is None:
            log.error("died; stopping the dev stack", extra=fields)
            pid = member.process.pid
            self._fail(f"the {member.name} (pid {pid}) {describe_exit(code)}", member)
            return
        verdict = watched.tracker.died(now)
        if verdict.give_up:
            log.error(
                "died; giving up on it", extra={**fields, "quick_failures": verdict.quick_failures}
            )
            self._fail(
                f"the {member.name} keeps failing: it died {verdict.quick_failures} times in a "
                f"row soon after starting; the last one {describe_exit(code)}",
                member,
            )
            return
        assert verdict.delay_s is not None
        log.warning("died; restarting", extra={**fields, "restart_in_s": verdict.delay_s})
        watched.restart_at = now + verdict.delay_s

    def _restart(self, watched: _Watched, now: float) -> None:
        watched.restart_at = None
        assert watched.tracker is not None
        watched.tracker.restarted(now)
        try:
            watched.member.process.restart()
        except (DevStackError, OSError) as exc:
            # Counted like a death at once, so a start that cannot work is given up on too.
            log.error(
                "could not restart",
                extra={"component": watched.member.name, "error": str(exc).splitlines()[0]},
            )
            self._died(watched, 1, now)

    def _may_reload(self, watched: _Watched) -> bool:
        """Not while the last restart is still joining: a member stopped in the middle of a
        group rebalance can leave a broker's coordinator assigning nothing (Tansu does);
        the reload waits until it is ready, or dead."""
        assert watched.tracker is not None
        if watched.tracker.ready or watched.member.process.exit_status() is not None:
            return True
        self._check_ready(watched)
        return watched.tracker.ready

    def _reload(self, watched: _Watched, now: float) -> None:
        watched.reload = False
        process = watched.member.process
        log.info("code changed; restarting", extra={"component": watched.member.name,
                                                    "pid": process.pid})  # fmt: skip
        try:
            process.stop()
        except Exception:  # a stop that failed leaves an exited child to start again
            log.exception("could not stop for a reload", extra={"component": watched.member.name})
        watched.restart_at = None
        self._restart(watched, now)

    def _check_ready(self, watched: _Watched) -> None:
        assert watched.tracker is not None
        if watched.member.ready():
            watched.tracker.became_ready()
            log.info(
                "ready again",
                extra={"component": watched.member.name, "pid": watched.member.process.pid},
            )

    def _fail(self, reason: str, member: Member) -> None:
        self.failure = f"{reason} (log: {member.process.spec.log_path}); the dev stack stopped"
        self._stop.set()
