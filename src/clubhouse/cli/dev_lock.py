"""One ``clubhouse dev`` per data dir: an exclusive lock on ``dev.lock`` held while it runs.

Two stacks on one data dir would share the registry database and agent state, and the second
would overwrite (then delete) the first one's ``dev.env``. A lock that can be taken means no
stack is running there and a ``dev.env`` beside it is stale. The lock file holds the owner's
pid and URLs as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clubhouse.dir_lock import DirLock
from clubhouse.dir_lock import lock_holder as _lock_holder

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


class DataDirLock(DirLock):
    """The lock of one dev data dir."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir, LOCK_FILE, DataDirBusyError)
        self.data_dir = data_dir


def lock_holder(data_dir: Path) -> dict[str, Any] | None:
    """What the live holder of ``data_dir``'s lock recorded, or None when nobody holds it."""
    return _lock_holder(data_dir, LOCK_FILE)
