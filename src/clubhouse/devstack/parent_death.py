"""Makes the kernel kill a child the moment its parent dies, even by SIGKILL (Linux only).

Why PR_SET_PDEATHSIG rather than a watchdog process:

* It is enforced by the kernel. Nothing in user space has to survive for it to work: a
  watchdog is one more process that can itself be killed (``kill -9`` of a process group,
  the OOM killer), and then the children leak.
* It costs nothing at run time: no extra interpreter, no polling, no pipe to keep open.
* ``atexit`` hooks, ``finally`` blocks and signal handlers all run in the parent, so none of
  them can help when the parent is SIGKILLed; the kernel is the only party left.

Its limits, and how we live with them:

* The signal fires when the *thread* that forked the child exits, not the process. The
  supervisor is driven from the main thread (the CLI, pytest fixtures); a caller that starts
  a stack from a short-lived worker thread would see the children die with that thread,
  so the supervisor logs a warning in that case.
* The parent may die between ``fork`` and ``prctl``; the child then checks ``getppid()``
  against the pid it expected and exits at once instead of living on as an orphan.
* It is not inherited by grandchildren. Our children (Tansu, uvicorn) do not fork, and each
  runs as the leader of its own process group, which the supervisor kills as a whole on
  every orderly exit path.
* It survives ``execve`` (except for set-uid binaries, which we never start).

``preexec_fn`` runs Python code between ``fork`` and ``exec``, which can deadlock if another
thread held a lock the child needs. The function below therefore only calls a libc function
resolved *in the parent* before forking and ``os`` functions that take no Python-level locks.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# Exit status of a child whose parent was already gone when it started (EX_SOFTWARE).
ORPHANED_AT_BIRTH_EXIT = 70


def supported() -> bool:
    """Whether this platform has PR_SET_PDEATHSIG."""
    return sys.platform.startswith("linux")


def kill_with_parent_preexec(
    parent_pid: int, sig: signal.Signals = signal.SIGKILL
) -> Callable[[], None] | None:
    """A ``preexec_fn`` that ties the child's life to the calling thread's, or None off Linux.

    Call it in the parent right before spawning; ``parent_pid`` is ``os.getpid()`` there.
    """
    if not supported():
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    signum = int(sig)

    def preexec() -> None:
        if prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            # Raising here makes Popen raise SubprocessError in the parent, which is what we
            # want: starting a child we cannot reap on parent death is a setup error.
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent_pid:
            os._exit(ORPHANED_AT_BIRTH_EXIT)

    return preexec
