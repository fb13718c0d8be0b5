"""Taking turns on the fixed ports 9092 and 8081.

A few tests need Kafka's and the registry's standard ports themselves (the founding
examples), or need nothing on them (the default-broker error). Test workers run side by
side, so such tests hold this lock, a ``flock`` on one file in the temp dir, while they do.
"""

from __future__ import annotations

import fcntl
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

LOCK_FILE = Path(tempfile.gettempdir()) / "clubhouse-tests-fixed-ports.lock"


@contextmanager
def fixed_ports(timeout_s: float = 600.0) -> Iterator[None]:
    """Held while the caller uses 9092 and 8081 (or needs them free)."""
    with LOCK_FILE.open("a") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"waited {timeout_s:g} s for {LOCK_FILE}; is a test stuck?")
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
