"""``clubhouse dev --reload``: restart the service instances when a Python file under the
app's folder changes, as ``uvicorn --reload`` does.

The files are watched with watchfiles (the library uvicorn and FastStream use). A change is
handed to the dev-stack supervisor, which stops each instance and starts it again with the
same command line from its own thread; a restarted instance restores its state from the
changelog like any other, so a reload loses nothing.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import click

log = logging.getLogger(__name__)

DEBOUNCE_MS = 150  # edits saved together (an editor's write and rename) are one change


def app_folder(app_ref: str) -> Path:
    """The folder of the module ``app_ref`` (``module:attribute``) names; it is imported
    already (``--app`` was checked first)."""
    module = sys.modules.get(app_ref.partition(":")[0])
    file = getattr(module, "__file__", None)
    if not file:
        raise click.UsageError(f"--reload: cannot tell which folder --app {app_ref!r} is in")
    return Path(file).resolve().parent


class Reloader(threading.Thread):
    """Calls ``on_change`` with the changed paths each time Python files under ``folder``
    change, until ``stop`` is set."""

    def __init__(
        self,
        folder: Path,
        on_change: Callable[[list[str]], None],
        stop: threading.Event,
        *,
        ignore: Iterable[Path] = (),
    ) -> None:
        super().__init__(name="clubhouse-reload", daemon=True)
        try:
            import watchfiles  # noqa: PLC0415 - only --reload needs it
        except ImportError as exc:
            raise click.UsageError(
                "--reload needs watchfiles: pip install 'clubhouse[dev-stack]'"
            ) from exc
        self._watchfiles = watchfiles
        self._folder = folder
        self._on_change = on_change
        self._stopping = stop
        self._ignore = [str(p) for p in ignore]

    def run(self) -> None:
        watchfiles = self._watchfiles
        only_python = watchfiles.PythonFilter(ignore_paths=self._ignore)
        try:
            for changes in watchfiles.watch(
                self._folder, watch_filter=only_python, debounce=DEBOUNCE_MS,
                stop_event=self._stopping, raise_interrupt=False,
            ):  # fmt: skip
                paths = sorted({path for _, path in changes})
                log.info("files changed; reloading", extra={"files": paths[:10]})
                self._on_change(paths)
        except Exception:  # a watcher that stopped must not look like one still watching
            log.exception("the file watcher failed; --reload is off from now on")
