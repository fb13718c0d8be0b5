"""Who an instance is: its instance id, kept in its state dir, and the transactional id
derived from it."""

from __future__ import annotations

import uuid
from pathlib import Path

_INSTANCE_ID_FILE = "instance-id"


def instance_id_for(state_dir: Path, given: str | None) -> str:
    """``given``, or the id this state dir was first run with (made up, then kept there).

    Kept stable so that a restarted instance reuses its transactional id: registering it
    again aborts whatever transaction the previous run left open, at once, instead of after
    the broker's transaction timeout (and Tansu has none).
    """
    if given:
        return given
    path = state_dir / _INSTANCE_ID_FILE
    if path.exists():
        found = path.read_text().strip()
        if found:
            return found
    state_dir.mkdir(parents=True, exist_ok=True)
    made = f"instance-{uuid.uuid4().hex[:12]}"
    path.write_text(made + "\n")
    return made


def transactional_id(consumer_group: str, instance_id: str) -> str:
    """The transactional id of ``instance_id`` in ``consumer_group``.

    One per instance and group (KIP-447): a zombie is fenced by the group's generation, and
    an earlier run of the same instance by the id itself, registered again at start.
    """
    return f"{consumer_group}-{instance_id}"
