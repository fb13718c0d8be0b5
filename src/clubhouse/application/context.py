"""What a handler gets besides its message: its key, its state, and ways to emit events and
send commands to other apps."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from clubhouse.contracts import BaseMessage, Command
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


class Addressee(Protocol):
    """An app a command can be sent to: its topic prefix, and how it keys its commands."""

    prefix: str

    def key_for(self, message: BaseMessage) -> str | None:
        """The key of ``message`` in that app, or None."""
        ...


@dataclass(frozen=True, slots=True)
class Sent:
    """A command a handler sent to another app: to its commands topic, with this key."""

    command: Command
    prefix: str  # the topic prefix of the app it is for, as the code names it
    key: str | None  # None: the receiving app keys it itself, one hop later


class Context:
    """One command's view of the service.

    ``state`` is this key's state: a mutable mapping of JSON values (an instance of the
    app's state model, when it has one), stored together with the handler's outputs when it
    returns (an empty mapping, or None, deletes the key's state).
    ``emit`` queues a message to publish with the response, and ``send`` a command to
    another app. If the handler raises, none of these is kept.
    """

    def __init__(
        self, key: str, message_id: UUID, state: Any, logger: logging.Logger
    ) -> None:
        self.key = key
        self.message_id = message_id
        self.state = state
        self._logger = logger
        self._log: _CommandLog | None = None
        self._emitted: list[BaseMessage] = []
        self._sent: list[Sent] = []

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

    def send(self, command: Command, *, to: str | Addressee, key: str | None = None) -> None:
        """Send ``command`` to another app's commands topic, in this message's transaction.

        ``to`` is that app (its ``App``), or its topic prefix. The record is keyed by
        ``key``, else by the key that app's handler names (when ``to`` is an App); with
        neither, the receiving service keys it itself. The command's id is derived from
        this message's, so handling this message again never sends a second command.
        """
        if not isinstance(command, Command):
            raise TypeError(f"send() takes a clubhouse Command, not {type(command).__name__}")
        if isinstance(to, str):
            if not to.strip():
                raise ValueError("send() needs the topic prefix of the app to send to")
            self._sent.append(Sent(command, to, key))
            return
        self._sent.append(Sent(command, to.prefix, key if key is not None else to.key_for(command)))

    @property
    def sent(self) -> list[Sent]:
        """What the handler sent so far, in order."""
        return list(self._sent)


class _CommandLog(logging.LoggerAdapter[logging.Logger]):
    """Adds the command's key and id to every record, keeping the caller's own ``extra``."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs
