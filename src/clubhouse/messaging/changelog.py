"""What one key owns, as its changelog record: its state and the window of recent commands.

The changelog topic (``{prefix}-state-changelog``, compacted) is the source of truth for
state. Each record is keyed by the state key and holds everything that key owns: its JSON
state and the outcomes of its most recent commands, so that a command sent twice is answered
twice with the same stored outputs and acts once, on whichever instance owns the key later.
Compaction keeps the newest record of each key; an empty entry is a tombstone.

Records carry the writer's ownership epoch (``clubhouse.epoch``). Each new owner of a
partition takes an epoch above every one it restored, so a restore can ignore the records a
deposed owner wrote after the new owner had started (see ``EntryReplay``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from clubhouse.errors import ClubhouseError

State = dict[str, Any]  # one key's state: a JSON object
EPOCH_HEADER = "clubhouse.epoch"


class ChangelogError(ClubhouseError):
    """A changelog record that cannot be read; the message names where it is."""


def changelog_topic(topic_prefix: str) -> str:
    """The compacted topic that holds every key's state, partitioned like the commands."""
    return f"{topic_prefix}-state-changelog"


@dataclass(frozen=True, slots=True)
class StoredOutput:
    """A published message: its model's name and its record value (framed Avro, base64),
    so that it can be sent again exactly as it was."""

    model: str
    payload: str


@dataclass(frozen=True, slots=True)
class Recent:
    """One command a key handled recently: its id, when, and what it published."""

    message_id: str
    at_ms: int
    outputs: tuple[StoredOutput, ...]
    # Its JSON, made once: a key's entry is written again with every command, and joining
    # the encoded window is far cheaper than encoding it again each time.
    encoded: str = field(default="", compare=False, repr=False)

    def json(self) -> str:
        """This command's part of the entry's ``recent`` list, as JSON."""
        if self.encoded:
            return self.encoded
        outputs = [[o.model, o.payload] for o in self.outputs]
        text = json.dumps([self.message_id, self.at_ms, outputs], separators=(",", ":"))
        object.__setattr__(self, "encoded", text)
        return text


@dataclass(frozen=True, slots=True)
class Entry:
    """Everything one key owns."""

    state: State | None
    recent: tuple[Recent, ...] = ()
    # The state as JSON, made once and carried over while the state stays the same object.
    encoded_state: str = field(default="", compare=False, repr=False)

    def state_json(self) -> str:
        """``state`` as JSON text."""
        if not self.encoded_state:
            text = json.dumps(self.state, separators=(",", ":"))
            object.__setattr__(self, "encoded_state", text)
        return self.encoded_state

    @property
    def empty(self) -> bool:
        """No state and no remembered command: the key can be forgotten (a tombstone)."""
        return self.state is None and not self.recent

    def outcome(self, message_id: str) -> tuple[StoredOutput, ...] | None:
        """The stored outputs of ``message_id`` if this key handled it recently."""
        for recent in self.recent:
            if recent.message_id == message_id:
                return recent.outputs
        return None


EMPTY = Entry(None)


@dataclass(frozen=True, slots=True)
class DedupeWindow:
    """How many recent command ids each key remembers, and for how long.

    A repeat of a remembered id is answered from its stored outputs; an older one is handled
    as new. Both bounds apply: whichever forgets first.
    """

    max_ids: int = 16
    max_age_s: float = 24 * 3600.0

    def __post_init__(self) -> None:
        if self.max_ids < 1:
            raise ValueError(f"the dedupe window must keep at least 1 id, not {self.max_ids}")
        if self.max_age_s <= 0:
            raise ValueError(f"the dedupe window must last more than 0 s, not {self.max_age_s}")

    def remember(
        self, recent: Sequence[Recent], message_id: str, outputs: tuple[StoredOutput, ...],
        now_ms: int,
    ) -> tuple[Recent, ...]:  # fmt: skip
        """``recent`` with this command added, the expired and the oldest beyond the count
        left out; newest first."""
        oldest = now_ms - int(self.max_age_s * 1000)
        kept = [r for r in recent if r.at_ms >= oldest][: self.max_ids - 1]
        return (Recent(message_id, now_ms, outputs), *kept)


def encode_entry(entry: Entry) -> bytes | None:
    """The record value of ``entry``; None (a tombstone) when it is empty."""
    if entry.empty:
        return None
    recent = ",".join([r.json() for r in entry.recent])
    return f'{{"state":{entry.state_json()},"recent":[{recent}]}}'.encode()


def decode_entry(value: bytes | None, where: str) -> Entry:
    """The entry a record value holds (a tombstone is the empty entry); ``where`` names the
    record in the error."""
    if value is None:
        return EMPTY
    try:
        doc: Any = json.loads(value)
        state = doc["state"]
        if state is not None and not isinstance(state, dict):
            raise TypeError(f"state is a {type(state).__name__}, not an object")
        recent = tuple(
            Recent(str(mid), int(at), tuple(StoredOutput(str(m), str(p)) for m, p in outs))
            for mid, at, outs in doc["recent"]
        )
    except (ValueError, KeyError, TypeError) as exc:
        message = f"the changelog record at {where} is not a state entry: {exc}"
        raise ChangelogError(message) from exc
    return Entry(state, recent)


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
