"""Turns one consumed record into the records to publish: the service's core, without Kafka.

Per command: decode, dedupe by ``message_id``, dispatch to its App handler with its key's
state, persist the new state together with the produced messages, and hand back what to
publish. Undecodable input goes to the dead-letter topic with headers saying why; nothing
here ever stops the loop.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass

from clubhouse.application.dispatch import Dispatcher
from clubhouse.contracts import Command, MessageCatalog
from clubhouse.messaging.outbound import Headers, Origin, Outbound, RecordBuilder
from clubhouse.messaging.serde import InvalidMessageError, MessageSerde, UndecodableMessageError
from clubhouse.messaging.state_store import StateStore, StoredOutput
from clubhouse.messaging.subjects import dead_letter_topic

log = logging.getLogger(__name__)

DLQ_REASON = "clubhouse.dlq.reason"
DLQ_ERROR = "clubhouse.dlq.error"
DLQ_SOURCE = "clubhouse.dlq.source"  # topic/partition/offset of the original record


@dataclass(frozen=True, slots=True)
class Processed:
    """What one input record led to: records to publish, and how it was classified."""

    records: list[Outbound]
    kind: str  # "command", "duplicate", "invalid", "dead_letter"
    message_type: str = "unknown"


class CommandProcessor:
    """Decodes, dedupes, dispatches and persists commands; returns the records to publish."""

    def __init__(
        self,
        serde: MessageSerde,
        dispatcher: Dispatcher,
        store: StateStore,
        catalog: MessageCatalog,
        topic_prefix: str,
        *,
        records: RecordBuilder | None = None,
    ) -> None:
        self._serde = serde
        self._records = records if records is not None else RecordBuilder(serde, topic_prefix)
        self._dispatcher = dispatcher
        self._store = store
        self._catalog = catalog
        self._prefix = topic_prefix

    def batch(self) -> AbstractContextManager[None]:
        """Store what the records processed inside the block did, durably, at its end.

        One durable commit per batch instead of one per command. Publish the batch's records
        (and commit its offsets) only after the block: until then nothing of it is stored.
        """
        return self._store.batch()

    def process(self, value: bytes | None, *, key: bytes | None, source: str) -> Processed:
        """Handle one record from the commands topic; ``source`` is topic/partition/offset."""
        if not value:
            return self._dead_letter(b"", key, source, "empty", "the record has no value")
        try:
            message = self._serde.deserialize(value)
        except InvalidMessageError as exc:
            if exc.message_id is None:
                return self._dead_letter(value, key, source, exc.reason, str(exc))
            log.warning("invalid command", extra={"source": source, "error": str(exc)})
            origin = Origin(exc.message_id, key, source)
            record = self._records.error_record(
                origin, "invalid_command", str(exc), {"model": exc.model.__name__}
            )
            return Processed([record], "invalid", exc.model.__name__)
        except UndecodableMessageError as exc:
            return self._dead_letter(value, key, source, exc.reason, str(exc))
        if not isinstance(message, Command):
            return self._dead_letter(
                value, key, source, "not_a_command",
                f"{type(message).__name__} is not a command; only commands belong on this topic",
            )  # fmt: skip
        return self._command(message, Origin(message.message_id, key, source))

    def _command(self, command: Command, origin: Origin) -> Processed:
        stored = self._store.outcome(command.message_id)
        if stored is not None:
            log.info(
                "duplicate command; re-publishing its stored outcome",
                extra={"message_id": str(command.message_id), "message_type": command.message_type},
            )
            outputs = [self._catalog.get(o.model).model_validate_json(o.payload) for o in stored]
            records = [self._records.record(m, origin) for m in outputs]
            return Processed(records, "duplicate", command.message_type)
        result = self._dispatcher.dispatch(command, self._store.get)
        self._store.apply(
            command.message_id,
            result.changes,
            [StoredOutput(type(o).__name__, o.model_dump_json()) for o in result.outputs],
        )
        records = [self._records.record(m, origin) for m in result.outputs]
        return Processed(records, "command", command.message_type)

    def _dead_letter(
        self, value: bytes, key: bytes | None, source: str, reason: str, error: str
    ) -> Processed:
        log.warning(
            "dead-lettering a record", extra={"source": source, "reason": reason, "error": error}
        )
        headers: Headers = [
            (DLQ_REASON, reason.encode()),
            (DLQ_ERROR, error.encode()[:4096]),
            (DLQ_SOURCE, source.encode()),
        ]
        return Processed(
            [Outbound(dead_letter_topic(self._prefix), key, value, headers)], "dead_letter"
        )
