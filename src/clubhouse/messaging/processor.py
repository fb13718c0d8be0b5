"""Turns one consumed record into the records to publish: the service's core, without Kafka.

Per command: decode, dedupe by ``message_id``, route to its handler, persist state changes
together with the produced messages, and hand back what to publish. Undecodable input goes
to the dead-letter topic with headers saying why; nothing here ever stops the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from clubhouse.agents.manager import AgentManager
from clubhouse.agents.store import StoredOutput
from clubhouse.contracts import AgentErrorEvent, BaseMessage, Command, MessageCatalog
from clubhouse.messaging.handlers import HandlerResult, error_response
from clubhouse.messaging.outbound import Headers, Origin, Outbound, RecordBuilder
from clubhouse.messaging.router import CommandRouter
from clubhouse.messaging.serde import InvalidMessageError, MessageSerde, UndecodableMessageError
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
    """Decodes, dedupes, routes and persists commands; returns the records to publish."""

    def __init__(
        self,
        serde: MessageSerde,
        router: CommandRouter,
        agents: AgentManager,
        catalog: MessageCatalog,
        topic_prefix: str,
        *,
        emit: Callable[[Outbound], None] | None = None,
        records: RecordBuilder | None = None,
    ) -> None:
        self._serde = serde
        self._records = records if records is not None else RecordBuilder(serde, topic_prefix)
        self._router = router
        self._agents = agents
        self._catalog = catalog
        self._prefix = topic_prefix
        self._emit = emit

    def batch(self) -> AbstractContextManager[None]:
        """Store what the records processed inside the block did, durably, at its end.

        One durable commit per batch instead of one per command. Publish the batch's records
        (and commit its offsets) only after the block: until then nothing of it is stored.
        """
        return self._agents.store.batch()

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
        stored = self._agents.store.outcome(command.message_id)
        if stored is not None:
            log.info(
                "duplicate command; re-publishing its stored outcome",
                extra={"message_id": str(command.message_id), "message_type": command.message_type},
            )
            outputs = [self._catalog.get(o.model).model_validate_json(o.payload) for o in stored]
            records = [self._records.record(m, origin) for m in outputs]
            return Processed(records, "duplicate", command.message_type)
        early: list[BaseMessage] = []
        result = self._route(command, origin, early)
        self._agents.store.apply(
            command.message_id,
            result.changes,
            [StoredOutput(type(o).__name__, o.model_dump_json()) for o in result.outputs],
        )
        # Messages already sent early are stored for replay but not sent a second time now.
        sent = {id(m) for m in early}
        records = [self._records.record(m, origin) for m in result.outputs if id(m) not in sent]
        return Processed(records, "command", command.message_type)

    def _route(self, command: Command, origin: Origin, early: list[BaseMessage]) -> HandlerResult:
        def emit(message: BaseMessage) -> None:
            if self._emit is not None:
                self._emit(self._records.record(message, origin))
                early.append(message)

        try:
            return self._router.route(command, self._agents, emit)
        # A handler is application code: a bug in one must answer its command with an error
        # and leave the service serving everyone else.
        except Exception as exc:
            log.exception(
                "handler failed", extra={"message_id": str(command.message_id),
                                         "message_type": command.message_type},
            )  # fmt: skip
            agent_id = str(getattr(command, "agent_id", "") or "")
            reason = f"{type(exc).__name__}: {exc}"
            outputs: Sequence[BaseMessage] = [
                AgentErrorEvent(agent_id=agent_id, error_message=reason,
                                error_type="handler_failed",
                                metadata={"command_id": str(command.message_id)}),
                error_response(command, "handler_failed", f"handling failed: {reason}"),
            ]  # fmt: skip
            return HandlerResult(outputs=list(outputs))

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
