"""Routes the events and responses an app's handlers follow to the partition of the app's
commands topic that owns their key.

A followed topic (this app's events, another app's events or responses) is partitioned by
whoever publishes it, by their own key; the state a handler needs lives with this app's
commands partitions. So each record a handler takes is forwarded, unchanged and keyed by the
handler's key field, to this app's commands topic, where the service handles it like a
command, with that key's state, deduped by its message id. The feed loop does this in a
transaction with the followed topic's offsets, so each record is forwarded exactly once.
Records no handler takes are skipped and counted, never forwarded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from clubhouse.application.app import App, Prefixes
from clubhouse.contracts import Command
from clubhouse.messaging.outbound import Outbound
from clubhouse.messaging.processor import FORWARDED_HEADER
from clubhouse.messaging.serde import MessageSerde, UndecodableMessageError
from clubhouse.messaging.subjects import topic_for
from clubhouse.services.kafka_protocol import ConsumedRecord

log = logging.getLogger(__name__)


class FeedRouter:
    """One followed record in, the record to forward (or None: skipped) out."""

    def __init__(
        self,
        serde: MessageSerde,
        app: App,
        prefixes: Prefixes,
        *,
        count: Callable[[str, str], None] = lambda topic, outcome: None,
    ) -> None:
        self._serde = serde
        self._app = app
        self._prefixes = prefixes
        self._commands = topic_for(prefixes.own, Command)
        self._count = count  # (topic, outcome): routed, or the reason it was skipped
        # Writer schemas of messages no handler here takes, by (topic, schema id): a busy
        # topic of another app is mostly those, and they need not be decoded again.
        self._unhandled: set[tuple[str, int]] = set()

    def route(self, record: ConsumedRecord) -> Outbound | None:
        """The record forwarded to the commands topic, keyed by its handler's key; None when
        no handler of this app takes it from this topic."""
        value = record.value
        if not value:
            return self._skip(record, "empty")
        schema = (record.topic, int.from_bytes(value[1:5])) if len(value) >= 5 else None
        if schema in self._unhandled:
            return self._skip(record, "not_handled")
        try:
            message = self._serde.deserialize(value)
        except UndecodableMessageError as exc:
            if exc.reason == "unknown_message_type" and schema is not None:
                self._unhandled.add(schema)  # a model this app does not know: not its own
                return self._skip(record, "not_handled")
            log.warning("a followed record cannot be decoded; skipped", extra={
                "source": record.source, "reason": exc.reason, "error": str(exc),
            })  # fmt: skip
            return self._skip(record, "undecodable")
        handler = self._app.reaction_for(type(message))
        if handler is None or handler.topic(self._prefixes) != record.topic:
            if schema is not None:
                self._unhandled.add(schema)
            return self._skip(record, "not_handled")
        key = self._app.key_for(message)
        if not key:
            log.warning("a followed message has no value in its key field; skipped",
                        extra={"source": record.source, "message_type": message.message_type,
                               "key_field": handler.key_field})  # fmt: skip
            return self._skip(record, "no_key")
        self._count(record.topic, "routed")
        headers = [(k, v) for k, v in record.headers if k != FORWARDED_HEADER]
        headers.append((FORWARDED_HEADER, record.source.encode()))
        return Outbound(self._commands, key.encode(), value, headers)

    def _skip(self, record: ConsumedRecord, reason: str) -> Outbound | None:
        self._count(record.topic, reason)
        return None
