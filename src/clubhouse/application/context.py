"""What a command handler gets besides its command: its key, its state, and a way to emit."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from clubhouse.contracts import BaseMessage
from clubhouse.errors import ClubhouseError

State = dict[str, Any]  # one key's state, as a handler sees it: a JSON object


class CommandRejected(ClubhouseError):
    """Raise from a handler to refuse a command on purpose; it is answered with an
    ErrorResponse of ``error_type``, and nothing the handler did is kept."""

    def __init__(self, error_type: str, message: str, **details: Any) -> None:
        self.error_type = error_type
        self.message = message
        self.details = details
        super().__init__(f"{error_type}: {message}")


class Context:
    """One command's view of the service.

    ``state`` is this key's state: a mutable mapping of JSON values, stored together with
    the handler's outputs when it returns (an empty mapping deletes the key's state).
    ``emit`` queues a message to publish with the response. If the handler raises, neither
    is kept.
    """

    def __init__(
        self, key: str, message_id: UUID, state: dict[str, Any], logger: logging.Logger
    ) -> None:
        self.key = key
        self.message_id = message_id
        self.state = state
        self._logger = logger
        self._log: _CommandLog | None = None
        self._emitted: list[BaseMessage] = []

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger that adds this command's key and message id to every record."""
        # Built on first use: most handlers never log, and building it was a measurable
        # share of a command's dispatch.
        if self._log is None:
            self._log = _CommandLog(
                self._logger, {"key": self.key, "message_id": str(self.message_id)}
            )
        return self._log

    def emit(self, message: BaseMessage) -> None:
        """Publish ``message`` (an Event, usually) together with this command's response."""
        if not isinstance(message, BaseMessage):
            raise TypeError(f"emit() takes a clubhouse message, not {type(message).__name__}")
        self._emitted.append(message)

    @property
    def emitted(self) -> list[BaseMessage]:
        """What the handler emitted so far, in order."""
        return list(self._emitted)


class _CommandLog(logging.LoggerAdapter[logging.Logger]):
    """Adds the command's key and id to every record, keeping the caller's own ``extra``."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs
