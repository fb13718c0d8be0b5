"""Starting a child on a loopback port: check or pick the port, spawn, wait until it is ready.

A port we picked ourselves can be taken by someone else before the child binds it; then the
child fails with "address in use" and we try again on a fresh port. A port the user chose is
never swapped behind their back: that case is a PortInUseError. ``LoopbackServer`` is what
the broker and the registry share: the port, the process and stopping it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, Self, TypeVar

from clubhouse.devstack.errors import PortInUseError, ProcessExitedError
from clubhouse.devstack.ports import pick_free_port, port_is_free
from clubhouse.devstack.process import ManagedProcess, ProcessSpec, ReadinessProbe
from clubhouse.devstack.supervisor import Member

log = logging.getLogger(__name__)

_PICK_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Readiness:
    """A readiness probe and the words that describe it in a timeout error."""

    probe: ReadinessProbe
    description: str


def mentions_address_in_use(lines: Sequence[str]) -> bool:
    """Whether a child's output says its port was taken (Tansu and uvicorn word it differently)."""
    text = "\n".join(lines).lower()
    return "addrinuse" in text or "address already in use" in text or "address in use" in text


def start_on_port(
    component: str,
    *,
    host: str,
    port: int | None,
    make_spec: Callable[[int], ProcessSpec],
    make_readiness: Callable[[int], Readiness],
    timeout: float,
) -> tuple[ManagedProcess, int]:
    """Start ``component`` on ``port`` (or a free one when None); return it ready, and its port."""
    picked = port is None
    attempts = _PICK_ATTEMPTS if picked else 1
    for attempt in range(1, attempts + 1):
        candidate = pick_free_port(host) if port is None else port
        if not port_is_free(host, candidate):
            if picked:
                continue
            raise PortInUseError(component, host, candidate)
        process = ManagedProcess(make_spec(candidate))
        process.start()
        readiness = make_readiness(candidate)
        try:
            process.wait_ready(readiness.probe, readiness.description, timeout)
        except ProcessExitedError as exc:
            if not mentions_address_in_use(exc.tail):
                raise
            if not picked or attempt == attempts:
                raise PortInUseError(component, host, candidate) from exc
            log.info(
                "picked port was taken before the child bound it; trying another",
                extra={"component": component, "port": candidate},
            )
            continue
        return process, candidate
    raise PortInUseError(component, host, candidate)


class ServerConfig(Protocol):
    """What every server config says: where to listen and how long to wait for the child."""

    @property
    def host(self) -> str:
        """The address the server listens on."""
        ...

    @property
    def port(self) -> int | None:
        """The port to listen on; None for a free one."""
        ...

    @property
    def startup_timeout(self) -> float:
        """Seconds to wait for the server to come up."""
        ...

    @property
    def stop_timeout(self) -> float:
        """Seconds a stop waits after the signal before SIGKILL."""
        ...


C = TypeVar("C", bound=ServerConfig)


class LoopbackServer(Generic[C]):
    """A supervised child serving on one loopback port; ``port`` is valid once started.

    The port is the configured one, or the one picked at the first start; a start after
    ``stop`` reuses it, so clients see a restart on the same address. As a context manager
    it is started on entry and stopped on exit.
    """

    component: ClassVar[str]

    def __init__(self, config: C) -> None:
        self.config = config
        self._process: ManagedProcess | None = None
        self._port: int | None = config.port

    @property
    def port(self) -> int:
        """The port the server listens on; an error before it is started."""
        if self._port is None:
            raise RuntimeError(f"the {self.component} has no port before it is started")
        return self._port

    @property
    def process(self) -> ManagedProcess | None:
        """The server's process, or None before it is started."""
        return self._process

    def member(self, *, restartable: bool) -> Member:
        """The started server as a member of a supervised stack."""
        if self._process is None:
            raise RuntimeError(f"the {self.component} is not a member before it is started")
        return Member(self._process, restartable, self._readiness(self.port).probe)

    def start(self) -> None:
        """Start the server; each subclass does it its own way."""
        raise NotImplementedError

    def stop(self) -> int | None:
        """Stop the child; returns its exit code (None if it never started)."""
        if self._process is None:
            return None
        return self._process.stop(self.config.stop_timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _launch(self, make_spec: Callable[[int], ProcessSpec]) -> None:
        self._process, self._port = start_on_port(
            self.component,
            host=self.config.host,
            port=self._port,
            make_spec=make_spec,
            make_readiness=self._readiness,
            timeout=self.config.startup_timeout,
        )

    def _readiness(self, port: int) -> Readiness:
        raise NotImplementedError
