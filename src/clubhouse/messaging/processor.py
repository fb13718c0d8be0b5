"""Turns one consumed record into the records to publish: the service's core, without Kafka.

Per command: decode, find its key, dedupe by ``message_id`` within that key's window of
recent commands, dispatch to its App handler with the key's state, and record the new state
and the outputs in the key's entry of the batch in progress (``KeyedState``); the caller
publishes the outputs and the changed entries (as changelog records) together. Undecodable
input goes to the dead-letter topic with headers saying why; nothing here ever stops the loop.

A command whose record is not keyed by its own key (a producer that keyed it otherwise), or
that sits in a partition that does not own its key (a producer on another partitioner), is
forwarded: the same record, keyed right, back to the commands topic, where it lands in the
partition that owns its key.

Outputs get ids derived from their command's id and their place among its outputs, so the
same command yields the same ids however often it is handled (after a crash, an aborted
transaction, or on Tansu, which shows aborted records): downstream readers can dedupe.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from clubhouse.application.context import Sent, State
from clubhouse.application.dispatch import Dispatcher, Failure, error_reply
from clubhouse.contracts import BaseMessage, Command, ErrorResponse, Response
from clubhouse.contracts.base import uuid5_of
from clubhouse.messaging.entries import (
    EMPTY,
    DedupeWindow,
    Entry,
    Recent,
    StateCodec,
    StoredOutput,
    encode_entry,
)
from clubhouse.messaging.outbound import Headers, Origin, Outbound, RecordBuilder
from clubhouse.messaging.serde import (
    InvalidMessageError,
    MessageSerde,
    SchemaNotRegisteredError,
    UndecodableMessageError,
)
from clubhouse.messaging.subjects import dead_letter_topic, topic_for
from clubhouse.services.kafka_protocol import ConsumedRecord

log = logging.getLogger(__name__)

DLQ_REASON = "clubhouse.dlq.reason"
DLQ_ERROR = "clubhouse.dlq.error"
DLQ_SOURCE = "clubhouse.dlq.source"  # topic/partition/offset of the original record
FORWARDED_HEADER = "clubhouse.forwarded_from"  # where a forwarded command was first read


class KeyedState(Protocol):
    """The entries of one partition's keys, as the batch in progress leaves them."""

    def get(self, key: str) -> Entry | None:
        """The entry of ``key``, or None."""
        ...

    def put(self, key: str, entry: Entry, value: bytes | None) -> None:
        """Change ``key``'s entry within the batch; ``value`` is the entry encoded."""
        ...


@dataclass(frozen=True, slots=True)
class Processed:
    """What one input record led to: records to publish, and how it was classified."""

    records: list[Outbound]
    # "command", "reaction", "duplicate", "invalid", "dead_letter", "forwarded", "timeout"
    kind: str
    message_type: str = "unknown"


class OutputError(Exception):
    """A handler output that cannot become a record; answers its command as ``error_type``."""

    def __init__(self, error_type: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.details = details

    @classmethod
    def undeclared(cls, model: type[BaseMessage], why: str) -> OutputError:
        """``model`` is in no catalog of this app and could not be registered at run time."""
        name = model.__name__
        return cls(
            "undeclared_output",
            f"{name} is not one of this app's models and could not be registered ({why}); "
            f"declare it: annotate the handler's return type, list it in emits=[{name}], "
            f"or call app.models({name})",
            model=name,
        )

    @classmethod
    def invalid(cls, message: BaseMessage, exc: BaseException) -> OutputError:
        """``message`` does not fit its own model's schema (built without validation, say)."""
        name = type(message).__name__
        return cls(
            "invalid_output",
            f"the handler's {name} cannot be encoded: {type(exc).__name__}: {exc}",
            model=name,
        )


def output_id(command_id: uuid.UUID, index: int, source: str) -> uuid.UUID:
    """The id of a command's ``index``-th output when handled from the record at ``source``.

    The same however often that record is handled (a redelivery, an aborted transaction, or
    Tansu, which shows aborted records), so downstream readers can dedupe. A producer that
    sends the command again once its id has left the dedupe window makes a new record and a
    new effect, whose outputs get new ids.
    """
    return uuid5_of(command_id, f"{index}@{source}")  # uuid.uuid5's value, built faster


def _number(cause: BaseMessage, messages: list[BaseMessage], source: str) -> None:
    for index, message in enumerate(messages):
        message.message_id = output_id(cause.message_id, index, source)


class CommandProcessor:
    """Decodes, dedupes and dispatches commands; returns the records to publish."""

    def __init__(
        self,
        serde: MessageSerde,
        dispatcher: Dispatcher,
        topic_prefix: str,
        *,
        records: RecordBuilder | None = None,
        window: DedupeWindow | None = None,
        max_entry_bytes: int = 1_000_000 - 2048,  # a record's default limit, less headroom
        fit: Callable[[Outbound], Outbound | None] = lambda record: record,
        adopt: Callable[[type[BaseMessage]], object] | None = None,
        partition_of: Callable[[bytes], int] | None = None,
        served_prefix: Callable[[str], str] = lambda prefix: prefix,
        state_codec: StateCodec | None = None,
        now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self._serde = serde
        self._records = records if records is not None else RecordBuilder(serde, topic_prefix)
        self._dispatcher = dispatcher
        self._prefix = topic_prefix
        self._commands_topic = topic_for(topic_prefix, Command)
        self._window = window or DedupeWindow()
        self._now_ms = now_ms
        self._max_entry = max_entry_bytes
        self._fit = fit  # PublishGuard.fit: what cannot be published is replaced here
        self._adopt = adopt  # registers a model first seen at run time (LateModels.adopt)
        self._partition_of = partition_of  # the commands partition owning a key; None: any
        self._responses_topic = topic_for(topic_prefix, Response)
        self._served_prefix = served_prefix  # Prefixes.of: where a ctx.send goes
        self._codec = state_codec  # the app's typed state in its entries; None: JSON

    def process(self, record: ConsumedRecord, state: KeyedState) -> Processed:
        """Handle one record of the commands topic, with the state of its partition."""
        value, key, source = record.value, record.key, record.source
        if not value:
            return self._dead_letter(b"", key, source, "empty", "the record has no value")
        try:
            message = self._serde.deserialize(value)
        except InvalidMessageError as exc:
            if exc.message_id is None:
                return self._dead_letter(value, key, source, exc.reason, str(exc))
            log.warning("invalid command", extra={"source": source, "error": str(exc)})
            origin = Origin(exc.message_id, key, source)
            reply = self._records.error_record(
                origin, "invalid_command", str(exc), {"model": exc.model.__name__}
            )
            return Processed(self._fit_all([reply]), "invalid", exc.model.__name__)
        except UndecodableMessageError as exc:
            return self._dead_letter(value, key, source, exc.reason, str(exc))
        reacts = not isinstance(message, Command)
        if reacts and self._dispatcher.app.reaction_for(type(message)) is None:
            return self._dead_letter(
                value, key, source, "not_a_command",
                f"{type(message).__name__} is not a command, nor an event or response this "
                "app handles; only those belong on this topic",
            )  # fmt: skip
        state_key = self._dispatcher.app.key_for(message)
        if state_key:
            wanted = state_key.encode()
            if key != wanted or not self._owns(record, wanted):
                return self._forward(record, wanted, message)
        origin = Origin(message.message_id, key, source)
        if reacts:
            return self._reaction(value, message, origin, state_key, state)
        assert isinstance(message, Command)  # for the type checker: reacts is False
        return self._command(message, origin, state_key, state)

    def timed_out(self, record: ConsumedRecord, state: KeyedState, limit_s: float) -> Processed:
        """The answer to a record whose handling ran past its time limit and was given up.

        The command is answered ``handler_timeout`` and its key keeps the state it had. The
        answer is remembered as the command's outcome, so a redelivery is answered again
        instead of running the handler once more.
        """
        try:
            message = self._serde.deserialize(record.value or b"")
        except UndecodableMessageError as exc:
            return self._dead_letter(record.value or b"", record.key, record.source,
                                     "handler_timeout", str(exc))  # fmt: skip
        if not isinstance(message, Command):  # an event or response: nobody to answer
            return self._dead_letter(
                record.value or b"", record.key, record.source, "handler_timeout",
                f"the handler of {type(message).__name__} ran past its time limit of "
                f"{limit_s:g} s (--handler-timeout) and was given up; nothing it did is kept",
            )  # fmt: skip
        key = self._dispatcher.app.key_for(message)
        entry = (state.get(key) or EMPTY) if key else EMPTY
        refusal = error_reply(
            message, "handler_timeout",
            f"the handler ran past its time limit of {limit_s:g} s (--handler-timeout) and was "
            "given up; nothing it changed or emitted is kept",
            limit_s=limit_s,
        )  # fmt: skip
        origin = Origin(message.message_id, record.key, record.source)
        published = self._refuse(message, origin, key, entry, refusal, state=state)
        return Processed([r for r, _ in published if r is not None], "timeout",
                         message.message_type)  # fmt: skip

    def _command(
        self, command: Command, origin: Origin, key: str | None, state: KeyedState
    ) -> Processed:
        entry = (state.get(key) or EMPTY) if key else EMPTY
        message_id = str(command.message_id)
        stored = entry.outcome(message_id, self._window.oldest(self._now_ms()))
        if stored is not None:
            log.info(
                "duplicate command; re-publishing its stored outcome",
                extra={"message_id": message_id, "message_type": command.message_type},
            )
            outputs = [self._serde.deserialize(o.payload) for o in stored]
            records = self._fit_all([self._records.record(m, origin) for m in outputs])
            return Processed(records, "duplicate", command.message_type)
        result = self._dispatcher.dispatch(command, lambda k: entry.state if k == key else None)
        messages: list[BaseMessage] = result.outputs
        _number(command, [*messages, *(s.command for s in result.sent)], origin.source)
        try:
            published = [self._publishable(m, origin) for m in messages]
            published += [self._publishable_sent(s, origin) for s in result.sent]
            if key:
                new_state = result.changes.get(key, entry.state)
                change = (key, entry, new_state)
                published = self._remember(command, origin, change, published, state)
        except OutputError as exc:
            # What the handler made cannot become records: the command is answered with why,
            # and nothing it changed or emitted is kept.
            log.warning("a command's outputs cannot be published; answering it with an error",
                        extra={"message_id": str(command.message_id), "key": key,
                               "error_type": exc.error_type, "error": exc.message})  # fmt: skip
            refusal = error_reply(command, exc.error_type, exc.message, **exc.details)
            published = self._refuse(command, origin, key, entry, refusal, state=state)
        records = [r for r, _ in published if r is not None]
        return Processed(records, "command", command.message_type)

    def _reaction(
        self, value: bytes, message: BaseMessage, origin: Origin, key: str | None,
        state: KeyedState,
    ) -> Processed:  # fmt: skip
        """An event or response for one of the app's handlers: deduped and keyed like a
        command; its outputs are events and commands, and a failure dead-letters it."""
        entry = (state.get(key) or EMPTY) if key else EMPTY
        message_id = str(message.message_id)
        stored = entry.outcome(message_id, self._window.oldest(self._now_ms()))
        if stored is not None:
            log.info("duplicate message; re-publishing its stored outcome", extra={
                "message_id": message_id, "message_type": message.message_type,
            })  # fmt: skip
            outputs = [self._serde.deserialize(o.payload) for o in stored]
            records = self._fit_all([self._records.record(m, origin) for m in outputs])
            return Processed(records, "duplicate", message.message_type)
        result = self._dispatcher.react(message, lambda k: entry.state if k == key else None)
        failure = result.failure
        published: list[tuple[Outbound | None, StoredOutput | None]] = []
        if failure is None:
            _number(message, [*result.outputs, *(s.command for s in result.sent)], origin.source)
            try:
                published = [self._publishable(m, origin) for m in result.outputs]
                published += [self._publishable_sent(s, origin) for s in result.sent]
            except OutputError as exc:
                failure = Failure(exc.error_type, exc.message, exc.details)
        if failure is not None:
            log.warning("a handler failed on an event or response; dead-lettering it", extra={
                "message_id": message_id, "key": key, "error_type": failure.error_type,
                "error": failure.message,
            })  # fmt: skip
            dead = self._dead_letter_record(
                value, origin.key, origin.source, failure.error_type, failure.message
            )
            if key:  # remembered, so the same message is not handled again
                self._keep(state, key, entry, entry.state, message_id=message_id, kept=())
            return Processed(self._fit_all([dead]), "dead_letter", message.message_type)
        if key:
            new_state = result.changes.get(key, entry.state)
            kept = tuple(o for _, o in published if o is not None)
            if not self._keep(state, key, entry, new_state, message_id=message_id, kept=kept):
                dead = self._dead_letter_record(
                    value, origin.key, origin.source, "state_too_large",
                    f"the state of key {key!r} would be over the limit of {self._max_entry} "
                    "bytes for one changelog record; nothing was changed",
                )  # fmt: skip
                self._keep(state, key, entry, entry.state, message_id=message_id, kept=())
                return Processed(self._fit_all([dead]), "dead_letter", message.message_type)
        records = [r for r, _ in published if r is not None]
        return Processed(records, "reaction", message.message_type)

    def _keep(
        self, state: KeyedState, key: str, entry: Entry, new_state: State | None, *,
        message_id: str, kept: tuple[StoredOutput, ...],
    ) -> bool:  # fmt: skip
        """Put ``key``'s new state, and ``message_id``'s outcome, into the batch; False (and
        nothing put) when the state is too large for one changelog record."""
        now = self._now_ms()
        same = entry.encoded_state if new_state is entry.state else ""
        recent = self._window.remember(entry.recent, message_id, kept, now)
        updated = Entry(new_state, recent, encoded_state=same)
        value = encode_entry(updated, self._codec)
        if value is not None and len(value) > self._max_entry:
            updated = Entry(new_state, (Recent(message_id, now, kept),), encoded_state=same)
            value = encode_entry(updated, self._codec)
        if value is not None and len(value) > self._max_entry:
            return False
        state.put(key, updated, value)
        return True

    def _publishable_sent(
        self, sent: Sent, origin: Origin
    ) -> tuple[Outbound | None, StoredOutput | None]:
        """The record of a command sent to another app. It is not remembered as part of the
        outcome: a duplicate is answered again, but sends nothing again."""
        return self._fit(self._record(sent.command, origin, sent)), None

    def _publishable(
        self, message: BaseMessage, origin: Origin
    ) -> tuple[Outbound | None, StoredOutput | None]:
        """The record that will be published for ``message`` (itself, or what the guard put
        in its place; None: nothing), with what to remember of it as the command's outcome.

        What is remembered is the record's value, the framed Avro bytes as they were sent:
        turning each output into JSON as well cost more than the rest of remembering it.
        """
        record = self._record(message, origin)
        fitted = self._fit(record)
        if fitted is record and record.value is not None:
            return record, StoredOutput(type(message).__name__, record.value)
        if fitted is not None and fitted.topic == self._responses_topic and fitted.value:
            return fitted, StoredOutput("ErrorResponse", fitted.value)  # in its place
        return fitted, None  # a dead letter stands in: nothing to send again for it

    def _remember(
        self, command: Command, origin: Origin, change: tuple[str, Entry, State | None],
        published: list[tuple[Outbound | None, StoredOutput | None]], state: KeyedState,
    ) -> list[tuple[Outbound | None, StoredOutput | None]]:  # fmt: skip
        """Put the key's new entry (state and this command's outcome) into the batch.

        If the entry is too large for one changelog record, older command ids make room
        first; if the state itself is, the command is answered ``state_too_large`` and
        changes nothing, since a record the broker refuses would block the partition.
        """
        key, entry, new_state = change
        message_id = str(command.message_id)
        kept = tuple(o for _, o in published if o is not None)
        if self._keep(state, key, entry, new_state, message_id=message_id, kept=kept):
            return published
        log.warning(
            "a key's state is too large for its changelog record; command refused",
            extra={"key": key, "message_id": message_id, "limit": self._max_entry},
        )
        refusal = error_reply(
            command, "state_too_large",
            f"the state of key {key!r} would be over the limit of {self._max_entry} bytes for "
            "one changelog record; nothing was changed",
            limit_bytes=self._max_entry,
        )  # fmt: skip
        return self._refuse(command, origin, key, entry, refusal, state=state)

    def _refuse(
        self, command: Command, origin: Origin, key: str | None, entry: Entry,
        refusal: ErrorResponse, *, state: KeyedState,
    ) -> list[tuple[Outbound | None, StoredOutput | None]]:  # fmt: skip
        """Answer ``command`` with ``refusal`` alone; its key keeps the state it had, and
        remembers the refusal as the command's outcome."""
        _number(command, [refusal], origin.source)
        published = [self._publishable(refusal, origin)]
        if key:
            now = self._now_ms()
            kept = tuple(o for _, o in published if o is not None)
            recent = self._window.remember(entry.recent, str(command.message_id), kept, now)
            same = entry.encoded_state
            updated = Entry(entry.state, recent, encoded_state=same)
            value = encode_entry(updated, self._codec)
            if value is not None and len(value) > self._max_entry:
                updated = Entry(entry.state, recent[:1], encoded_state=same)
                value = encode_entry(updated, self._codec)
            state.put(key, updated, value)
        return published

    def _record(self, message: BaseMessage, origin: Origin, sent: Sent | None = None) -> Outbound:
        """The record of one handler output; ``OutputError`` says why it cannot be made."""
        try:
            return self._build(message, origin, sent)
        except SchemaNotRegisteredError:
            pass
        except Exception as exc:  # the message's values, not the service: its command's error
            raise OutputError.invalid(message, exc) from exc
        # A model no declaration named: registered now, as Confluent's serializers do by
        # default, so that a plain unannotated handler still works.
        model = type(message)
        if self._adopt is None:
            raise OutputError.undeclared(model, "this processor registers no models itself")
        try:
            self._adopt(model)
        except Exception as exc:  # whatever refused it, the refusal answers this command
            raise OutputError.undeclared(model, str(exc)) from exc
        try:
            return self._build(message, origin, sent)
        except Exception as exc:
            raise OutputError.invalid(message, exc) from exc

    def _build(self, message: BaseMessage, origin: Origin, sent: Sent | None) -> Outbound:
        record = self._records.record(message, origin)
        if sent is None:
            return record
        key = None if sent.key is None else sent.key.encode()
        return replace(record, topic=f"{self._served_prefix(sent.prefix)}-commands", key=key)

    def _owns(self, record: ConsumedRecord, key: bytes) -> bool:
        """Whether ``record``'s partition is the one that owns ``key`` (and its state).

        A producer on another partitioner (librdkafka's default, crc32) puts a well-keyed
        command in another partition; handling it there would split the key's state. A
        record this service forwarded already is kept wherever it landed: only a partition
        count or partitioner that changed under the service can put it there, and sending it
        on again would never end.
        """
        if self._partition_of is None or self._partition_of(key) == record.partition:
            return True
        if any(name == FORWARDED_HEADER for name, _ in record.headers):
            log.warning(
                "a forwarded command landed in a partition that does not own its key (were "
                "partitions added, or does --partitioner differ between instances?); "
                "handling it here",
                extra={"source": record.source, "key": key.decode(errors="replace"),
                       "owner": self._partition_of(key)},
            )  # fmt: skip
            return True
        return False

    def _forward(self, record: ConsumedRecord, key: bytes, command: BaseMessage) -> Processed:
        log.info(
            "command not keyed by its key, or in a partition that does not own it; "
            "forwarding it to the partition that owns the key",
            extra={"source": record.source, "key": key.decode(errors="replace"),
                   "message_id": str(command.message_id)},
        )  # fmt: skip
        headers = [(k, v) for k, v in record.headers if k != FORWARDED_HEADER]
        headers.append((FORWARDED_HEADER, record.source.encode()))
        forwarded = Outbound(self._commands_topic, key, record.value or b"", headers)
        return Processed(self._fit_all([forwarded]), "forwarded", command.message_type)

    def _dead_letter(
        self, value: bytes, key: bytes | None, source: str, reason: str, error: str
    ) -> Processed:
        log.warning(
            "dead-lettering a record", extra={"source": source, "reason": reason, "error": error}
        )
        dead = self._dead_letter_record(value, key, source, reason, error)
        return Processed(self._fit_all([dead]), "dead_letter")

    def _dead_letter_record(
        self, value: bytes, key: bytes | None, source: str, reason: str, error: str
    ) -> Outbound:
        headers: Headers = [
            (DLQ_REASON, reason.encode()),
            (DLQ_ERROR, error.encode()[:4096]),
            (DLQ_SOURCE, source.encode()),
        ]
        return Outbound(dead_letter_topic(self._prefix), key, value, headers)

    def _fit_all(self, records: list[Outbound]) -> list[Outbound]:
        return [r for r in map(self._fit, records) if r is not None]
