"""Partition state without Kafka: the changelog entry codec, the local store, restores by
the epoch rule, and opening and closing stores as partitions come and go."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from clubhouse.messaging.entries import (
    ChangelogError,
    Entry,
    Recent,
    StoredOutput,
    decode_entry,
    encode_entry,
)
from clubhouse.runtime.changelog import EPOCH_HEADER
from clubhouse.runtime.partitions import OwnedPartitions
from clubhouse.runtime.restore import ChangelogRestorer
from clubhouse.runtime.state_store import PartitionStore
from clubhouse.services.kafka_protocol import ConsumedRecord, TopicOffset


def test_an_entry_round_trips_and_an_empty_one_is_a_tombstone() -> None:
    entry = Entry({"n": 1, "nested": {"a": [1, 2]}},
                  (Recent("m1", 5, (StoredOutput("X", b"\x00\x01framed"),)),))  # fmt: skip
    value = encode_entry(entry)
    assert value is not None
    assert decode_entry(value, "here") == entry
    assert encode_entry(Entry(None)) is None
    assert decode_entry(None, "here").empty


def test_an_entry_written_as_json_by_an_earlier_version_is_still_read() -> None:
    older = b'{"state":{"n":1},"recent":[["m1",5,[["X","AAFmcmFtZWQ="]]]]}'
    entry = decode_entry(older, "here")
    assert entry == Entry({"n": 1}, (Recent("m1", 5, (StoredOutput("X", b"\x00\x01framed"),)),))


def test_a_remembered_output_costs_its_own_size_and_no_more() -> None:
    payload = bytes(range(256)) * 1000
    value = encode_entry(Entry({"n": 1}, (Recent("m1", 5, (StoredOutput("X", payload),)),)))
    assert value is not None and len(value) - len(payload) < 100


@pytest.mark.parametrize("value", [
    b"not json", b'{"state": 3, "recent": []}', b"{}", b"\xc1\x00\x00", b"\xc1" + b"\x00" * 9,
    encode_entry(Entry({"n": 1})) + b"trailing",  # type: ignore[operator]
])  # fmt: skip
def test_a_garbage_entry_is_an_error_naming_the_record(value: bytes) -> None:
    with pytest.raises(ChangelogError, match="at t/0/7"):
        decode_entry(value, "t/0/7")


def test_the_store_keeps_entries_checkpoint_and_epoch_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    store = PartitionStore(path)
    assert (store.checkpoint, store.epoch) == (0, 0)
    store.write({"a": encode_entry(Entry({"v": 1})), "b": encode_entry(Entry({"v": 2}))},
                checkpoint=10, epoch=3)  # fmt: skip
    store.write({"b": None}, checkpoint=12, epoch=3)
    store.close()
    again = PartitionStore(path)
    assert (again.checkpoint, again.epoch) == (12, 3)
    assert [(k, e.state) for k, e in again.items()] == [("a", {"v": 1})]


def record(offset: int, key: str, state: dict[str, int] | None, epoch: int) -> ConsumedRecord:
    value = encode_entry(Entry(state)) if state is not None else None
    return ConsumedRecord("t-state-changelog", 0, offset, key.encode(), value,
                          ((EPOCH_HEADER, str(epoch).encode()),))  # fmt: skip


class FakeChangelog:
    """A changelog partition read the way KafkaConsumer.read_to_end reads one."""

    def __init__(self, records: list[ConsumedRecord], end: int | None = None) -> None:
        self.records = records
        self.end = end if end is not None else (records[-1].offset + 2 if records else 0)
        self.reads: list[int] = []

    def read_to_end(
        self, start: TopicOffset, timeout: float, on_record: Callable[[ConsumedRecord], None]
    ) -> int:
        self.reads.append(start.offset)
        for r in self.records:
            if r.offset >= start.offset:
                on_record(r)
        return self.end


def test_a_restore_applies_the_newest_record_of_each_key_and_tombstones() -> None:
    log = FakeChangelog([record(0, "a", {"v": 1}, 1), record(1, "b", {"v": 1}, 1),
                         record(3, "a", {"v": 2}, 1), record(4, "b", None, 2)])  # fmt: skip
    store = PartitionStore(":memory:")
    done = ChangelogRestorer(log.read_to_end, "t-state-changelog").restore(store, 0)
    assert [(k, e.state) for k, e in store.items()] == [("a", {"v": 2})]
    assert (done.records, done.skipped, store.checkpoint, store.epoch) == (4, 0, 6, 2)


def test_records_a_deposed_owner_wrote_after_its_successor_are_skipped() -> None:
    # Owner 1 wrote a; owner 2 took over and wrote a; owner 1, frozen until then, wrote on.
    log = FakeChangelog([record(0, "a", {"v": 1}, 1), record(2, "a", {"v": 2}, 2),
                         record(4, "a", {"v": 99}, 1), record(5, "c", {"v": 99}, 1)])  # fmt: skip
    store = PartitionStore(":memory:")
    done = ChangelogRestorer(log.read_to_end, "t-state-changelog").restore(store, 0)
    assert [(k, e.state) for k, e in store.items()] == [("a", {"v": 2})]
    assert done.skipped == 2


def test_a_restore_resumes_from_the_checkpoint(tmp_path: Path) -> None:
    log = FakeChangelog([record(0, "a", {"v": 1}, 1)])
    store = PartitionStore(tmp_path / "p.sqlite")
    restorer = ChangelogRestorer(log.read_to_end, "t-state-changelog")
    restorer.restore(store, 0)
    log.records.append(record(2, "b", {"v": 1}, 1))
    log.end = 4
    second = restorer.restore(store, 0)
    assert log.reads == [0, 2]
    assert second.records == 1
    assert [k for k, _ in store.items()] == ["a", "b"]


def test_partitions_are_restored_on_assignment_and_closed_on_revocation(tmp_path: Path) -> None:
    log = FakeChangelog([record(0, "a", {"v": 1}, 4)])
    events: list[object] = []
    owned = OwnedPartitions(
        state_dir=tmp_path, commands_topic="t-commands", changelog_topic="t-state-changelog",
        restorer=ChangelogRestorer(log.read_to_end, "t-state-changelog"),
        on_restoring=lambda busy: events.append(("restoring", busy)),
        on_owned=lambda n: events.append(("owned", n)),
    )  # fmt: skip
    owned.on_assigned([("t-commands", 0), ("other", 0)])
    state = owned.get(0)
    assert state is not None
    assert state.epoch == 5  # above every epoch restored
    entry = state.get("a")
    assert entry is not None and entry.state == {"v": 1}
    assert events == [("restoring", True), ("restoring", False), ("owned", 1)]
    state.put("b", Entry({"v": 2}), encode_entry(Entry({"v": 2})))
    owned.discard_pending()
    assert state.get("b") is None  # a failed batch leaves nothing
    state.put("b", Entry({"v": 2}), encode_entry(Entry({"v": 2})))
    owned.commit({0: 9})
    assert state.store.checkpoint == 9
    owned.on_revoked([("t-commands", 0)])
    assert owned.get(0) is None
    reopened = PartitionStore(tmp_path / "t-state-changelog-0.sqlite")
    assert [k for k, _ in reopened.items()] == ["a", "b"]
    assert (reopened.checkpoint, reopened.epoch) == (9, 5)


def _raw(
    offset: int, key: bytes | None, value: bytes | None, epoch: bytes | None
) -> ConsumedRecord:
    headers = () if epoch is None else ((EPOCH_HEADER, epoch),)
    return ConsumedRecord("t-state-changelog", 0, offset, key, value, headers)


MALFORMED = [
    ("key_not_utf8", _raw(1, b"\xff\xfe", encode_entry(Entry({"v": 9})), b"1")),
    ("no_key", _raw(1, None, encode_entry(Entry({"v": 9})), b"1")),
    ("value_not_an_entry", _raw(1, b"a", b"not json at all", b"1")),
    ("value_not_an_entry", _raw(1, b"a", b'{"state": [1, 2], "recent": []}', b"1")),
    ("value_not_an_entry", _raw(1, b"a", b"\x00\x01garbage", None)),
    ("epoch_out_of_range", _raw(1, b"a", encode_entry(Entry({"v": 9})), str(2**63 - 1).encode())),
    ("epoch_out_of_range", _raw(1, b"a", encode_entry(Entry({"v": 9})), b"-5")),
    ("epoch_not_a_number", _raw(1, b"a", encode_entry(Entry({"v": 9})), b"x1")),
]


@pytest.mark.parametrize(("reason", "bad"), MALFORMED)
def test_a_malformed_changelog_record_is_skipped_with_one_warning_and_counted(
    reason: str, bad: ConsumedRecord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    skipped: list[str] = []
    log = FakeChangelog([record(0, "a", {"v": 1}, 1), bad, record(2, "b", {"v": 2}, 1)])
    store = PartitionStore(tmp_path / "p.sqlite")
    restorer = ChangelogRestorer(log.read_to_end, "t-state-changelog", on_skipped=skipped.append)
    with caplog.at_level("WARNING"):
        done = restorer.restore(store, 0)
    assert skipped == [reason]
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert (getattr(warnings[0], "partition", None), getattr(warnings[0], "offset", None)) == (0, 1)
    assert done.records == 3
    # The good records around it are restored, and the store is usable afterwards.
    assert [(k, e.state) for k, e in store.items()] == [("a", {"v": 1}), ("b", {"v": 2})]
    store.write({"c": encode_entry(Entry({"v": 3}))}, checkpoint=9, epoch=store.epoch + 1)
    store.close()
    assert PartitionStore(tmp_path / "p.sqlite").epoch == 2


def test_an_empty_changelog_partition_is_not_read_at_all() -> None:
    # Reading to the end of an empty partition waits for the broker's end-of-partition event
    # (seconds on Tansu without the dev tuning); a reported end of 0 already says it.
    log = FakeChangelog([], end=0)
    store = PartitionStore(":memory:")
    restorer = ChangelogRestorer(log.read_to_end, "t-state-changelog", estimate_end=lambda p: 0)
    done = restorer.restore(store, 0)
    assert log.reads == []
    assert (done.records, store.checkpoint) == (0, 0)
    # Not when the local copy is ahead of that end: the topic was created again, and the
    # copy is kept and written back (a read of the new, empty log decides that).
    store.write({}, checkpoint=5, epoch=1)
    restorer.restore(store, 0)
    assert log.reads == [0]


class BlockingChangelog(FakeChangelog):
    """A read that returns only once ``expected`` reads are in progress at the same time."""

    def __init__(self, expected: int) -> None:
        super().__init__([], end=1)
        self.together = threading.Barrier(expected, timeout=10)

    def read_to_end(
        self, start: TopicOffset, timeout: float, on_record: Callable[[ConsumedRecord], None]
    ) -> int:
        self.together.wait()  # broken (an error) unless every restore reads at once
        return super().read_to_end(start, timeout, on_record)


def test_assigned_partitions_are_restored_in_parallel(tmp_path: Path) -> None:
    log = BlockingChangelog(expected=3)
    restorers = [ChangelogRestorer(log.read_to_end, "t-state-changelog") for _ in range(3)]
    owned = OwnedPartitions(
        state_dir=tmp_path, commands_topic="t-commands", changelog_topic="t-state-changelog",
        restorer=restorers[0], more_restorers=restorers[1:],
    )  # fmt: skip
    owned.on_assigned([("t-commands", p) for p in range(3)])
    assert owned.owned() == [0, 1, 2]
