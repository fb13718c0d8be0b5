"""One ``clubhouse dev`` per data dir: an exclusive lock on ``dev.lock`` held while it runs.

Two stacks on one data dir would share the registry database and agent state, and the second
would overwrite (then delete) the first one's ``dev.env``. The kernel drops an ``flock`` when
its holder dies, even by SIGKILL, so a lock that can be taken means no stack is running there
and a ``dev.env`` beside it is stale. The lock file holds the owner's pid and URLs as JSON.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

LOCK_FILE = "dev.lock"


class DataDirBusyError(Exception):
    """Another process holds the data dir; ``holder`` is what it recorded (pid, URLs)."""

    def __init__(self, data_dir: Path, holder: Mapping[str, Any]) -> None:
        self.holder = dict(holder)
        urls = ", ".join(f"{k}={v}" for k, v in holder.items() if k != "pid")
        super().__init__(
            f"another clubhouse dev (pid {holder.get('pid', '?')}) is running on {data_dir}"
            f"{f' ({urls})' if urls else ''}; stop it first, or pass another --data-dir"
        )


def _read(handle: IO[str]) -> dict[str, Any]:
    handle.seek(0)
    try:
        data = json.loads(handle.read() or "{}")
    except ValueError:  # the owner is between truncate and write
        return {}
    return data if isinstance(data, dict) else {}


class DataDirLock:
    """The exclusive lock of one data dir; a context manager, released on exit or death."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILE
        self._handle: IO[str] | None = None

    def acquire(self) -> DataDirLock:
        """Take the lock or raise DataDirBusyError naming the holder; never waits."""
        if self._handle is not None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(handle)
            handle.close()
            raise DataDirBusyError(self.data_dir, holder) from None
        self._handle = handle
        self.record({})
        return self

    def record(self, env: Mapping[str, str]) -> None:
        """Write this process's pid and the stack's variables for a second starter to show."""
        if self._handle is None:
            raise RuntimeError("the data dir lock is not held")
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps({"pid": os.getpid(), **env}))
        self._handle.flush()

    def release(self) -> None:
        """Drop the lock, if held, by closing its file."""
        if self._handle is not None:
            self._handle.close()  # closing drops the flock
            self._handle = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_holder(data_dir: Path) -> dict[str, Any] | None:
    """What the live holder of ``data_dir``'s lock recorded, or None when nobody holds it."""
    path = data_dir / LOCK_FILE
    try:
        handle = path.open("r")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(handle)
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
