"""What ``clubhouse dev`` needs around a running stack: shutdown signals, the summary it
prints, and the ``export`` lines other shells ``eval`` or ``source``."""

from __future__ import annotations

import logging
import shlex
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import FrameType

from clubhouse.devstack.stack import DevStack

log = logging.getLogger(__name__)

_SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def shutdown_signals(
    signals: Sequence[signal.Signals] = _SHUTDOWN_SIGNALS,
) -> Iterator[threading.Event]:
    """An event set by the first SIGINT/SIGTERM; a second one raises KeyboardInterrupt.

    The first signal asks for an orderly stop, which the caller performs; the second aborts
    whatever is slow (a start-up still waiting on a child), and ``with`` blocks still clean
    up. The previous handlers are restored on exit. Main thread only, as for any handler.
    """
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.info("shutdown requested", extra={"signal": signal.Signals(signum).name})
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in signals}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def format_env(env: Mapping[str, str]) -> str:
    """``export NAME=value`` lines a POSIX shell can ``eval``."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())


def describe(stack: DevStack) -> str:
    """The human summary printed once the stack is up."""
    started = stack.broker.startup_seconds
    took = f", ready in {started:.1f} s" if started is not None else ""
    lines = [f"Kafka bootstrap       {stack.bootstrap_servers}  ({stack.broker.component}{took})"]
    if stack.registry is not None:
        lines.append(f"Schema registry       {stack.schema_registry_url}")
    lines += [
        f"Data and logs         {stack.config.data_dir}/",
        "",
        "Point other tools at it with:",
        *("  " + line for line in format_env(stack.env()).splitlines()),
    ]
    return "\n".join(lines) + "\n"
