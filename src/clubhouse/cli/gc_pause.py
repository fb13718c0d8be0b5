"""The cyclic garbage collector during a one-shot command such as ``clubhouse send``.

Starting a send (pydantic, the contracts, confluent-kafka) makes some 40,000 objects the
collector tracks and next to no cyclic garbage, yet the collector walks them again and
again while they are made, and once more as the interpreter exits: about 45 ms of CPU in a send of
0.35 s (measured). ``paused()`` stops it for the command, whose wait is bounded by its
``--timeout``; ``at_exit()``, called by the console script alone (never in someone else's
process, such as click's test runner), freezes what was made: left to the OS at exit.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside; afterwards the collector is as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def at_exit() -> None:
    """The console script is ending: what it made is left to the OS, not scanned again by
    the interpreter's last collection."""
    gc.freeze()
