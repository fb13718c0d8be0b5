"""The changelog topic: where each key's entry lives, and the epoch its records carry.

The changelog topic (``{prefix}-state-changelog``, compacted) is the source of truth for
state. Each record is keyed by the state key and its value is the key's whole entry
(``messaging.entries``); compaction keeps the newest record of each key, and an empty
entry is a tombstone.

Records carry the writer's ownership epoch (``clubhouse.epoch``). Each new owner of a
partition takes an epoch above every one it restored, so a restore can ignore the records a
deposed owner wrote after the new owner had started (see ``restore``).
"""

from __future__ import annotations

from collections.abc import Sequence

from clubhouse.messaging.entries import ChangelogError

EPOCH_HEADER = "clubhouse.epoch"


def changelog_topic(topic_prefix: str) -> str:
    """The compacted topic that holds every key's state, partitioned like the commands."""
    return f"{topic_prefix}-state-changelog"


# Epochs grow by one per change of owner; the cap leaves every successor room in SQLite's
# signed 64-bit integers, so one forged header cannot make the next commit overflow.
MAX_EPOCH = 2**62


def record_epoch(headers: Sequence[tuple[str, bytes]]) -> int:
    """The writer's epoch of a changelog record; 0 for a record written without one.

    ``ChangelogError`` when the header is not a whole number from 0 to ``MAX_EPOCH``.
    """
    for name, value in headers:
        if name == EPOCH_HEADER:
            try:
                epoch = int(value)
            except ValueError:
                raise ChangelogError(f"epoch header {value[:40]!r} is not a number") from None
            if not 0 <= epoch <= MAX_EPOCH:
                raise ChangelogError(f"epoch {epoch} is outside 0..{MAX_EPOCH}")
            return epoch
    return 0
