"""What one key owns: its state and the window of its recent commands, and their encoding.

An entry is the processor's record of a key: the state its handlers keep, and the outcomes
of its most recent commands (their published record values, as they were sent), so that a
command sent twice is answered twice with the same stored outputs and acts once, on
whichever instance owns the key later. The runtime stores entries as changelog records and
in each partition's local copy; an empty entry is a tombstone.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from clubhouse.application.context import State
from clubhouse.errors import ClubhouseError


class ChangelogError(ClubhouseError):
    """A changelog record that cannot be read; the message names where it is."""


class StateCodec(Protocol):
    """How an app with a state model keeps a key's state in its entry: as bytes of the
    model's registered schema (Confluent-framed Avro), read back into stored form."""

    def encode(self, state: State) -> bytes:
        """``state`` (stored form: the model dumped as JSON values) as bytes."""
        ...

    def decode(self, data: bytes) -> State:
        """The stored form of the state in ``data``; raises ValueError when it cannot."""
        ...


@dataclass(frozen=True, slots=True)
class StoredOutput:
    """A published message: its model's name and its record value (framed Avro, as sent),
    so that it can be sent again exactly as it was."""

    model: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Recent:
    """One command a key handled recently: its id, when, and what it published."""

    message_id: str
    at_ms: int
    outputs: tuple[StoredOutput, ...]
    # Its encoding, made once: a key's entry is written again with every command, and
    # joining the encoded window is far cheaper than encoding it again each time.
    encoded: bytes = field(default=b"", compare=False, repr=False)

    def binary(self) -> bytes:
        """This command's part of the entry, in the entry's binary layout."""
        if self.encoded:
            return self.encoded
        mid = self.message_id.encode()
        parts = [_U16.pack(len(mid)), mid, _I64U16.pack(self.at_ms, len(self.outputs))]
        for output in self.outputs:
            model = output.model.encode()
            parts += [_U16.pack(len(model)), model, _U32.pack(len(output.payload)),
                      output.payload]  # fmt: skip
        text = b"".join(parts)
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

    def outcome(self, message_id: str, oldest_ms: int = 0) -> tuple[StoredOutput, ...] | None:
        """The stored outputs of ``message_id`` if this key handled it at ``oldest_ms`` or
        later (the dedupe window's age, checked when asked as well as when written)."""
        for recent in self.recent:
            if recent.message_id == message_id and recent.at_ms >= oldest_ms:
                return recent.outputs
        return None


EMPTY = Entry(None)


@dataclass(frozen=True, slots=True)
class DedupeWindow:
    """How many recent command ids each key remembers, and for how long.

    The one rule: a key remembers at most ``max_ids`` of its most recent command ids, each
    for at most ``max_age_s``, whichever forgets first. A repeat of a remembered id is
    answered again from its stored outputs and acts no more; a repeat of a forgotten one is
    a new command, acts again, and its outputs get new ids.
    """

    max_ids: int = 16
    max_age_s: float = 24 * 3600.0

    def __post_init__(self) -> None:
        if self.max_ids < 1:
            raise ValueError(f"the dedupe window must keep at least 1 id, not {self.max_ids}")
        if self.max_age_s <= 0:
            raise ValueError(f"the dedupe window must last more than 0 s, not {self.max_age_s}")

    def oldest(self, now_ms: int) -> int:
        """The earliest time, in epoch ms, that a remembered id may be from at ``now_ms``."""
        return now_ms - int(self.max_age_s * 1000)

    def remember(
        self, recent: Sequence[Recent], message_id: str, outputs: tuple[StoredOutput, ...],
        now_ms: int,
    ) -> tuple[Recent, ...]:  # fmt: skip
        """``recent`` with this command added, the expired and the oldest beyond the count
        left out; newest first."""
        oldest = self.oldest(now_ms)
        kept = [r for r in recent if r.at_ms >= oldest][: self.max_ids - 1]
        return (Recent(message_id, now_ms, outputs), *kept)


# The record value's layout: a format byte, the state as JSON (length-prefixed; the largest
# length stands for no state), then the recent commands, each with its outputs' record values
# as they were published. Values written before it are JSON objects, read as well. An app
# with a state model writes format _TYPED: the same, with the state as its StateCodec's bytes.
_BINARY = b"\xc1"
_TYPED = b"\xc2"
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_I64U16 = struct.Struct(">qH")
_NO_STATE = 0xFFFFFFFF


def encode_entry(entry: Entry, codec: StateCodec | None = None) -> bytes | None:
    """The record value of ``entry``; None (a tombstone) when it is empty. With ``codec``
    (an app with a state model), the state is kept as the codec's bytes."""
    if entry.empty:
        return None
    if entry.state is None:
        head = _U32.pack(_NO_STATE)
        state = b""
    else:
        state = entry.state_json().encode() if codec is None else codec.encode(entry.state)
        head = _U32.pack(len(state))
    recent = [r.binary() for r in entry.recent]
    kind = _BINARY if codec is None else _TYPED
    return b"".join([kind, head, state, _U16.pack(len(recent)), *recent])


def decode_entry(value: bytes | None, where: str, codec: StateCodec | None = None) -> Entry:
    """The entry a record value holds (a tombstone is the empty entry); ``where`` names the
    record in the error. A typed entry needs the app's ``codec``; an untyped one is read
    either way (an app that gained a state model reads its old JSON state into it)."""
    if value is None:
        return EMPTY
    try:
        if value[:1] == _BINARY:
            return _decode_binary(value, None)
        if value[:1] == _TYPED:
            if codec is None:
                raise ValueError("its state is typed; it is read with the app's state model")
            return _decode_binary(value, codec)
        return _decode_json(value)
    except (ValueError, KeyError, TypeError, IndexError, struct.error, RecursionError) as exc:
        message = f"the changelog record at {where} is not a state entry: {exc}"
        raise ChangelogError(message) from exc


def _decode_binary(value: bytes, codec: StateCodec | None) -> Entry:
    view = memoryview(value)
    (size,) = _U32.unpack_from(view, 1)
    at = 5
    state: Any = None
    if size != _NO_STATE:
        raw = bytes(view[at : at + size])
        state = json.loads(raw) if codec is None else codec.decode(raw)
        at += size
        _check_state(state)
    (count,) = _U16.unpack_from(view, at)
    at += 2
    recent: list[Recent] = []
    for _ in range(count):
        (size,) = _U16.unpack_from(view, at)
        message_id = bytes(view[at + 2 : at + 2 + size]).decode()
        at += 2 + size
        at_ms, outputs = _I64U16.unpack_from(view, at)
        at += 10
        stored: list[StoredOutput] = []
        for _ in range(outputs):
            (size,) = _U16.unpack_from(view, at)
            model = bytes(view[at + 2 : at + 2 + size]).decode()
            at += 2 + size
            (size,) = _U32.unpack_from(view, at)
            payload = bytes(view[at + 4 : at + 4 + size])
            if len(payload) != size:
                raise ValueError("a stored output is cut short")
            at += 4 + size
            stored.append(StoredOutput(model, payload))
        recent.append(Recent(message_id, at_ms, tuple(stored)))
    if at != len(value):
        raise ValueError(f"{len(value) - at} bytes after the entry")
    return Entry(state, tuple(recent))


def _decode_json(value: bytes) -> Entry:
    doc: Any = json.loads(value)
    state = doc["state"]
    _check_state(state)
    recent = tuple(
        Recent(str(mid), int(at), tuple(StoredOutput(str(m), base64.b64decode(str(p)))
                                        for m, p in outs))
        for mid, at, outs in doc["recent"]
    )  # fmt: skip
    return Entry(state, recent)


def _check_state(state: object) -> None:
    if state is not None and not isinstance(state, dict):
        raise TypeError(f"state is a {type(state).__name__}, not an object")
