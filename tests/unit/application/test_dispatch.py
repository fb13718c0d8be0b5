"""Dispatcher: a handler works on a copy of its key's state, and logs with its command's ids."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from clubhouse.application import App, CommandRejected, Context, Dispatcher
from clubhouse.contracts import Command, Response


class TouchCommand(Command):
    message_type: str = "command.touch"
    key: str
    reject: bool = False


def _dispatcher(stored: dict[str, Any]) -> tuple[Dispatcher, Any]:
    app = App(prefix="touch")

    @app.command(TouchCommand, key="key")
    def touch(cmd: TouchCommand, ctx: Context) -> None:
        ctx.state["items"].append({"n": 2})
        ctx.state["items"][0]["n"] = 10
        ctx.state["pair"][0]["seen"] = True
        ctx.log.info("touched", extra={"items": len(ctx.state["items"])})
        if cmd.reject:
            raise CommandRejected("no", "rejected after changing the state")

    return Dispatcher(app), lambda key: stored if key == "k" else None


def test_nested_state_the_reader_gave_is_never_changed_by_the_handler() -> None:
    stored: dict[str, Any] = {"items": [{"n": 1}], "pair": ({"seen": False}, "x")}
    dispatcher, read = _dispatcher(stored)
    rejected = dispatcher.dispatch(TouchCommand(key="k", reject=True), read)
    assert rejected.changes == {}
    done = dispatcher.dispatch(TouchCommand(key="k"), read)
    # A tuple does not come from JSON, and it is still copied all the way down.
    assert stored == {"items": [{"n": 1}], "pair": ({"seen": False}, "x")}
    assert done.changes == {"k": {"items": [{"n": 10}, {"n": 2}], "pair": ({"seen": True}, "x")}}


def test_ctx_log_adds_the_key_and_message_id(caplog: pytest.LogCaptureFixture) -> None:
    dispatcher, read = _dispatcher({"items": [{"n": 1}], "pair": [{"seen": False}]})
    command = TouchCommand(key="k")
    with caplog.at_level(logging.INFO, logger="clubhouse.handlers"):
        dispatcher.dispatch(command, read)
    (record,) = [r for r in caplog.records if r.getMessage() == "touched"]
    assert (record.key, record.message_id, record.items) == ("k", str(command.message_id), 2)  # type: ignore[attr-defined]


class DoneResponse(Response):
    message_type: str = "response.done"
    note: str = "done"


DONE = DoneResponse()  # one object returned for every command: answering must not change it


def test_the_answer_is_a_copy_of_the_result_marked_as_answering_the_command() -> None:
    app = App(prefix="done")

    @app.command(TouchCommand, key="key")
    def done(cmd: TouchCommand, ctx: Context) -> DoneResponse:
        return DONE

    first, second = TouchCommand(key="a"), TouchCommand(key="b")
    answers = [Dispatcher(app).dispatch(c, lambda key: None).outputs[0] for c in (first, second)]
    assert [a.in_response_to for a in answers] == [first.message_id, second.message_id]  # type: ignore[attr-defined]
    assert all("in_response_to" in a.model_fields_set and a.note == "done" for a in answers)  # type: ignore[attr-defined]
    assert DONE.in_response_to is None and "in_response_to" not in DONE.model_fields_set
    assert answers[0].message_id == DONE.message_id  # a copy, not a new message
