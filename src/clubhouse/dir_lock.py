"""An exclusive, never-waiting lock on a directory, held by one process while it uses it.

The kernel drops an ``flock`` when its holder dies, even by SIGKILL, so a lock that can be
taken means nobody is using the directory. The lock file holds the owner's pid, and whatever
else it records, as JSON, so that a second starter can say who is there.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

# (directory, what the holder recorded) -> the error to raise
BusyError = Callable[[Path, Mapping[str, Any]], Exception]


def read_holder(handle: IO[str]) -> dict[str, Any]:
    """What the holder wrote into an open lock file; {} while it is being rewritten."""
    handle.seek(0)
    try:
        data = json.loads(handle.read() or "{}")
    except ValueError:  # the owner is between truncate and write
        return {}
    return data if isinstance(data, dict) else {}


class DirLock:
    """The exclusive lock of one directory; a context manager, released on exit or death."""

    def __init__(self, directory: Path, lock_file: str, busy: BusyError) -> None:
        self.directory = directory
        self.path = directory / lock_file
        self._busy = busy
        self._handle: IO[str] | None = None

    def acquire(self) -> DirLock:
        """Take the lock, or raise the ``busy`` error naming the holder; never waits."""
        if self._handle is not None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_holder(handle)
            handle.close()
            raise self._busy(self.directory, holder) from None
        self._handle = handle
        self.record({})
        return self

    def record(self, env: Mapping[str, str]) -> None:
        """Write this process's pid and ``env`` for a second starter to show."""
        if self._handle is None:
            raise RuntimeError(f"the lock of {self.directory} is not held")
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps({"pid": os.getpid(), **env}))
        self._handle.flush()

    def release(self) -> None:
        """Drop the lock, if held, by closing its file."""
        if self._handle is not None:
            self._handle.close()  # closing drops the flock
            self._handle = None

    def __enter__(self) -> DirLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_holder(directory: Path, lock_file: str) -> dict[str, Any] | None:
    """What the live holder of ``directory``'s lock recorded, or None when nobody holds it."""
    try:
        handle = (directory / lock_file).open("r")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_holder(handle)
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
