"""Runs one message through its App handler: state in, outputs and the new state out.

A handler is user code, so whatever it does wrong belongs to its message and leaves the
service serving everyone else: for a command, an exception becomes an ErrorResponse
``handler_error``, ``CommandRejected`` an ErrorResponse of its own type; for an event or a
response, the failure is reported to the caller, which dead-letters the message. Either
way nothing the handler changed, emitted or sent is kept. Async handlers run on an event
loop owned by the dispatcher (one per thread that runs handlers).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from clubhouse.application.app import App, CommandHandler, ReactionHandler
from clubhouse.application.context import CommandRejected, Context, Sent, State
from clubhouse.contracts import BaseMessage, Command, ErrorResponse, Response

log = logging.getLogger(__name__)

StateReader = Callable[[str], State | None]


@dataclass
class Dispatched:
    """What one message did: the new state per key (None: deleted), what to publish, what
    to send to other apps, and, when its handler failed, why (then nothing else is kept)."""

    changes: dict[str, State | None] = field(default_factory=dict)
    outputs: list[BaseMessage] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    failure: Failure | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a handler's work cannot be kept: an error type, a message, and details."""

    error_type: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def error_reply(command: Command, error_type: str, message: str, **details: Any) -> ErrorResponse:
    """An ErrorResponse answering ``command``."""
    return ErrorResponse(
        in_response_to=command.message_id,
        error_type=error_type,
        error_message=message,
        details=details,
    )


class Dispatcher:
    """Looks up each message's handler, runs it with its key's state, collects the result."""

    def __init__(
        self,
        app: App,
        *,
        handler_log: logging.Logger | None = None,
        handler_timeout_s: float | None = None,
    ) -> None:
        self.app = app
        self._log = handler_log or logging.getLogger("clubhouse.handlers")
        self._timeout = handler_timeout_s  # async handlers past it are cancelled
        # One event loop per thread that runs handlers: a worker given up while a handler
        # blocked its loop keeps that loop, and the next worker gets its own.
        self._runners: dict[int, asyncio.Runner] = {}

    def dispatch(self, command: Command, read_state: StateReader) -> Dispatched:
        """Handle ``command``; ``read_state`` gives a key's current state.

        A failure is answered: the result's only output is the ErrorResponse saying why.
        """
        handler = self.app.handler_for(type(command))
        if handler is None:
            result = Dispatched(failure=Failure(
                "unsupported_command",
                f"no handler for {type(command).__name__} ({command.message_type}); "
                "register one with @app.command",
            ))  # fmt: skip
        else:
            result = self._run(handler, command, read_state)
        failed = result.failure
        if failed is None:
            return result
        return Dispatched(
            outputs=[error_reply(command, failed.error_type, failed.message, **failed.details)],
            failure=failed,
        )

    def react(self, message: BaseMessage, read_state: StateReader) -> Dispatched:
        """Handle an event or response with its handler; nothing answers it.

        A failure is in the result's ``failure``, with no outputs and no changes.
        """
        handler = self.app.reaction_for(type(message))
        if handler is None:
            return Dispatched(failure=Failure(
                "unsupported_message",
                f"no handler for {type(message).__name__} ({message.message_type}); "
                "register one with @app.event or @app.response",
            ))  # fmt: skip
        return self._run(handler, message, read_state)

    def _run(
        self,
        handler: CommandHandler | ReactionHandler,
        message: BaseMessage,
        read_state: StateReader,
    ) -> Dispatched:
        key = getattr(message, handler.key_field)
        if key is None or key == "":
            return Dispatched(failure=Failure(
                "invalid_command" if isinstance(message, Command) else "invalid_message",
                f"{type(message).__name__}.{handler.key_field} is the key and must be set",
            ))  # fmt: skip
        key = str(key)
        before = read_state(key) or {}
        typed = self.app.state_model
        if typed is None:
            ctx = Context(key, message.message_id, _copy_state(before), self._log)
        else:
            try:
                initial, baseline = _typed_state(typed, before)
            except ValidationError as exc:
                return Dispatched(failure=Failure(
                    "state_unreadable",
                    f"the stored state of key {key!r} does not fit {typed.__name__}: "
                    f"{_first_error(exc)}",
                ))  # fmt: skip
            ctx = Context(key, message.message_id, initial, self._log)
        try:
            result = self._call(handler, message, ctx)
        except CommandRejected as exc:
            return Dispatched(failure=Failure(exc.error_type, exc.message, exc.details))
        except HandlerTimeout as exc:
            self._log.error("handler cancelled at its time limit", extra={
                "message_id": str(message.message_id), "key": key, "limit_s": exc.limit_s,
            })  # fmt: skip
            return Dispatched(failure=Failure(
                "handler_timeout",
                f"{exc} (--handler-timeout) and was cancelled; nothing it changed or emitted "
                "is kept", {"limit_s": exc.limit_s},
            ))  # fmt: skip
        # Application code: a bug in one handler answers its command and nothing else, even
        # sys.exit() or a KeyboardInterrupt it raises itself (the service stops on signals
        # through its stop event, never through an exception in the handler's frame).
        except BaseException as exc:
            if isinstance(exc, GeneratorExit):
                raise
            self._log.exception(
                "handler failed",
                extra={"message_id": str(message.message_id), "key": key,
                       "message_type": message.message_type},
            )  # fmt: skip
            return Dispatched(failure=Failure(
                "handler_error", f"{type(exc).__name__}: {exc}",
                {"handler": getattr(handler.func, "__qualname__", repr(handler.func))},
            ))  # fmt: skip
        problem = _check_result(result, answers=isinstance(handler, CommandHandler))
        changed = False
        new_state: State | None = None
        if problem is None and typed is not None:
            new_state, problem = _typed_result(typed, ctx.state)
            changed = problem is None and new_state != baseline
        elif problem is None:
            try:
                changed = ctx.state != before
                problem = _check_state(ctx.state) if changed else None
            except RecursionError:
                problem = "ctx.state is nested too deep to compare with the stored state"
            if problem is None and changed and ctx.state:
                new_state = dict(ctx.state)
        if problem is not None:
            return Dispatched(failure=Failure("handler_error", problem))
        outputs: list[BaseMessage] = []
        if result is not None:
            outputs.append(_answering(result, message.message_id))
        outputs.extend(ctx.emitted)
        changes: dict[str, State | None] = {}
        if changed:
            changes[key] = new_state
        return Dispatched(changes, outputs, ctx.sent)

    def close(self) -> None:
        """Close the event loops of async handlers that are not running any more."""
        for ident, runner in list(self._runners.items()):
            try:
                runner.close()
            except RuntimeError:
                continue  # still running, in a thread given up on; it goes with the process
            del self._runners[ident]

    def _call(
        self, handler: CommandHandler | ReactionHandler, message: BaseMessage, ctx: Context
    ) -> Any:
        if not handler.is_async:
            return handler.func(message, ctx)
        ident = threading.get_ident()
        runner = self._runners.get(ident)
        if runner is None:
            runner = self._runners[ident] = asyncio.Runner()
        if self._timeout is None:
            return runner.run(handler.func(message, ctx))
        return runner.run(_bounded(handler.func(message, ctx), self._timeout))


class HandlerTimeout(BaseException):
    """An async handler ran past its time limit and was cancelled.

    A BaseException, so that a handler's own ``except Exception`` cannot swallow it.
    """

    def __init__(self, limit_s: float) -> None:
        super().__init__(f"the handler ran past its time limit of {limit_s:g} s")
        self.limit_s = limit_s


async def _bounded(work: Coroutine[Any, Any, Any], limit_s: float) -> Any:
    try:
        async with asyncio.timeout(limit_s) as deadline:
            return await work
    except TimeoutError:
        if deadline.expired():
            raise HandlerTimeout(limit_s) from None
        raise  # the handler's own TimeoutError is its own error


def _answering(result: Response, command_id: UUID) -> Response:
    """A copy of ``result`` answering ``command_id``.

    What ``model_copy(update={"in_response_to": ...})`` makes (a shallow copy, the field
    set without validation and marked as set), without its general-purpose overhead.
    """
    copied = result.__copy__()
    copied.__dict__["in_response_to"] = command_id
    copied.__pydantic_fields_set__.add("in_response_to")
    return copied


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def _copy_state(value: Any) -> Any:
    """A deep copy of ``value``, fast for JSON data (the state a store hands out).

    ``copy.deepcopy`` was a tenth of a command's dispatch; JSON dicts, lists and scalars are
    copied here directly (JSON read back from a store shares and cycles nothing, so
    deepcopy's memo is not needed), anything else still goes through ``deepcopy``.
    """
    kind = type(value)
    if kind is dict:
        # Scalars inline: most state values are, and a call per value was half the cost.
        return {k: v if type(v) in _IMMUTABLE else _copy_state(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _IMMUTABLE else _copy_state(v) for v in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)


def _typed_state(model: type[BaseModel], stored: State) -> tuple[BaseModel | None, State | None]:
    """What a typed handler's ``ctx.state`` starts as, and the stored form it is compared
    with afterwards: the stored state as ``model``; for a new key, ``model()``, or None when
    the model cannot be built empty."""
    if stored:
        return model.model_validate(stored), stored
    try:
        empty = model()
    except ValidationError:
        return None, None
    return empty, empty.model_dump(mode="json")


def _typed_result(model: type[BaseModel], state: object) -> tuple[State | None, str | None]:
    """A typed handler's ``ctx.state`` in stored form (None: deleted), or why it cannot be
    stored. Fields assigned without validation are caught by validating it once more."""
    if state is None:
        return None, None
    if not isinstance(state, model):
        return None, (
            f"ctx.state was replaced by a {type(state).__name__}; it must stay a "
            f"{model.__name__} (or None, to delete the key's state)"
        )
    try:
        dumped = state.model_dump(mode="json", warnings=False)  # validated next, with a reason
        model.model_validate(dumped)
    except (ValidationError, PydanticSerializationError, ValueError, TypeError) as exc:
        return None, f"ctx.state does not fit {model.__name__}: {_first_error(exc)}"
    except RecursionError:
        return None, "ctx.state is nested too deep to be stored"
    return dumped, None


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "the model"
        return f"{where}: {first.get('msg', str(exc))}"
    return str(exc)


def _check_result(result: object, *, answers: bool) -> str | None:
    """Why a handler's result cannot be used, or None."""
    if result is not None and not answers:
        return (
            f"the handler returned {type(result).__name__}; an event or response handler "
            "returns nothing (emit events with ctx.emit, send commands with ctx.send)"
        )
    if result is not None and not isinstance(result, Response):
        return f"the handler returned {type(result).__name__}; a handler returns a Response or None"
    return None


def _check_state(state: object) -> str | None:
    """Why a changed ``ctx.state`` cannot be stored, or None.

    Only a changed state is serialized to check it: one read back from the store is JSON
    already, and this runs for every command.
    """
    if not isinstance(state, dict):
        return (
            f"ctx.state was replaced by a {type(state).__name__}; it must stay a dict of JSON "
            "values (change its items, or clear() it to delete the key's state)"
        )
    try:
        json.dumps(state)
    except RecursionError:
        return "ctx.state is nested too deep to be stored as JSON"
    except (TypeError, ValueError) as exc:
        return f"ctx.state holds a value that is not JSON-serializable: {exc}"
    return None
