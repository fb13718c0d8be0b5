"""An App whose handlers misbehave in every way user code can, beside one that behaves.

Each bad command must be answered once with an ErrorResponse, change nothing, and leave the
service answering the good ``Count`` commands around it, on both brokers and after a restart.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from clubhouse.application import App, Context
from clubhouse.contracts import Command, Event, Response


class Count(Command):
    """Adds one to the key's counter: the well-behaved command."""

    message_type: str = "command.count"
    key: str


class Counted(Response):
    message_type: str = "response.counted"
    n: int


class Misbehave(Command):
    """Runs the misbehaviour ``how`` on the key (see ``HOWS``)."""

    message_type: str = "command.misbehave"
    key: str
    how: str
    text: str = ""


class NeverDeclaredReply(Response):
    """Defined in the app's module but named by no annotation, ``emits=`` or ``models()``."""

    message_type: str = "response.never_declared"
    note: str


class NeverDeclaredEvent(Event):
    """Emitted by a handler whose ``emits=`` leaves it out."""

    message_type: str = "event.never_declared"
    note: str


class Stall(Command):
    """Runs an async handler that never returns."""

    message_type: str = "command.stall"
    key: str


app = App(prefix="misbehaving")


@app.command(Stall, key="key")
async def stall(cmd: Stall, ctx: Context) -> None:
    ctx.state["touched"] = True
    await asyncio.Event().wait()


@app.command(Count, key="key")
def count(cmd: Count, ctx: Context) -> Counted:
    ctx.state["n"] = ctx.state.get("n", 0) + 1
    return Counted(n=ctx.state["n"])


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def _unannotated_reply(cmd: Misbehave, ctx: Context):  # type: ignore[no-untyped-def]
    ctx.state["touched"] = True
    return NeverDeclaredReply(note="plain def handlers are common Python")


def _undeclared_event(cmd: Misbehave, ctx: Context) -> NeverDeclaredReply:
    ctx.emit(NeverDeclaredEvent(note="not in emits="))
    return NeverDeclaredReply(note="emitted")


def _made_at_run_time(cmd: Misbehave, ctx: Context) -> Response:
    # A model no module defines at import time: only registering it when it is first used
    # can make it publishable.
    made = type("MadeAtRunTime", (Response,), {
        "__annotations__": {"message_type": str, "note": str},
        "message_type": "response.made_at_run_time", "__module__": __name__,
    })  # fmt: skip
    reply: Response = made(note="hello")
    return reply


def _wrong_types(cmd: Misbehave, ctx: Context) -> Counted:
    ctx.state["touched"] = True
    return Counted.model_construct(n="not a number")


def _state_list(cmd: Misbehave, ctx: Context) -> None:
    ctx.state = [1, 2, 3]  # type: ignore[assignment]


def _state_string(cmd: Misbehave, ctx: Context) -> None:
    ctx.state = "oops"  # type: ignore[assignment]


def _state_deep(cmd: Misbehave, ctx: Context) -> None:
    ctx.state["deep"] = _nested(5_000)


def _state_not_json(cmd: Misbehave, ctx: Context) -> None:
    ctx.state["when"] = object()


def _exit(cmd: Misbehave, ctx: Context) -> None:
    ctx.state["touched"] = True
    sys.exit(3)


def _interrupt(cmd: Misbehave, ctx: Context) -> None:
    ctx.state["touched"] = True
    raise KeyboardInterrupt


def _raise_text(cmd: Misbehave, ctx: Context) -> None:
    ctx.state["touched"] = True
    raise ValueError(cmd.text)


def _sleep(cmd: Misbehave, ctx: Context) -> None:
    ctx.state["touched"] = True
    time.sleep(float(cmd.text or "60"))


HOWS = {
    "unannotated_reply": _unannotated_reply,
    "undeclared_event": _undeclared_event,
    "made_at_run_time": _made_at_run_time,
    "wrong_types": _wrong_types,
    "state_list": _state_list,
    "state_string": _state_string,
    "state_deep": _state_deep,
    "state_not_json": _state_not_json,
    "exit": _exit,
    "interrupt": _interrupt,
    "raise_text": _raise_text,
    "sleep": _sleep,
}


@app.command(Misbehave, key="key")
def misbehave(cmd: Misbehave, ctx: Context):  # type: ignore[no-untyped-def]
    return HOWS[cmd.how](cmd, ctx)
