"""What a ``clubhouse dev`` run starts from: nothing, or, with ``--keep-state``, everything
the last run left.

Keyed state (the instances' SQLite copies under ``{data_dir}/state/``), responses and events
(topics on the broker) belong together: state kept while the topics are gone would answer
commands about keys whose history has vanished, and with several instances which copy won
would depend on who got which partition. So a run either clears the state directory, as the
broker starts empty, or keeps both, which only Kafka can (its data is on disk; Tansu's is in
memory).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import click

log = logging.getLogger(__name__)

KEEP_STATE_HELP = (
    "Keep what the last run left: the service state under --data-dir/state/ and Kafka's "
    "topics (responses, events, offsets). Needs --broker kafka: Tansu keeps its data in "
    "memory only. Without it, every run begins empty."
)


def state_root(data_dir: Path) -> Path:
    """The directory that holds the state directory of every dev instance."""
    return data_dir / "state"


def check_keep_state(keep_state: bool, broker: str) -> None:
    """Refuse ``--keep-state`` where the broker cannot keep its topics (a usage error)."""
    if keep_state and broker != "kafka":
        raise click.UsageError(
            f"--keep-state needs --broker kafka: {broker} keeps its topics in memory only, "
            "so the responses and events of the last run are gone whatever happens to the state"
        )


def begin_run(
    data_dir: Path,
    *,
    keep_state: bool,
    broker_data_kept: bool = False,
    own_state_dir: Path | None = None,
) -> None:
    """Clear the instances' state unless it is kept; call it with the data dir locked.

    State is kept only with the broker's data (``broker_data_kept``): when the broker
    begins empty all the same (no data of a cluster this size), so does the state. A
    ``--state-dir`` of the user's own (``own_state_dir``) is theirs: never deleted, but
    they are told that its state outlives the topics.
    """
    if keep_state and broker_data_kept:
        return
    root = state_root(data_dir)
    if root.exists():
        shutil.rmtree(root)
        log.info("state of the last run cleared", extra={"path": str(root)})
    if own_state_dir is not None and own_state_dir.exists() and any(own_state_dir.iterdir()):
        log.warning(
            "--state-dir is not cleared: its state is kept while the topics begin empty",
            extra={"path": str(own_state_dir)},
        )
