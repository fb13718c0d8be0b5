"""Typed state in memory: ctx.state as the app's Pydantic model, what a handler may do with
it, and the one-model-per-app rule."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from clubhouse.application import App, Context
from clubhouse.contracts import Command, ErrorResponse, Response
from clubhouse.contracts.catalog import CatalogError
from clubhouse.testing import TestApp


class Tally(BaseModel):
    count: int = 0
    tags: list[str] = []


class Needs(BaseModel):
    owner: str  # no default: a new key starts with no state


class Bump(Command):
    message_type: str = "command.bump"
    k: str
    how: str = "add"


class Bumped(Response):
    message_type: str = "response.bumped"
    count: int


app = App(prefix="typed")


@app.command(Bump, key="k", state=Tally)
def bump(cmd: Bump, ctx: Context) -> Bumped | None:
    if cmd.how == "wrong_type":
        ctx.state.count = "many"  # assigned without validation: caught before it is stored
        return None
    if cmd.how == "replace_with_dict":
        ctx.state = {"count": 1}
        return None
    if cmd.how == "delete":
        ctx.state = None
        return None
    if cmd.how == "nothing":
        return Bumped(count=ctx.state.count)
    ctx.state.count += 1
    ctx.state.tags.append(cmd.how)
    return Bumped(count=ctx.state.count)


def test_ctx_state_is_the_model_and_is_stored_as_it() -> None:
    with TestApp(app) as t:
        first = t.send(Bump(k="a"))
        assert isinstance(first, Bumped) and first.count == 1
        reply = t.send(Bump(k="a"))
        assert isinstance(reply, Bumped) and reply.count == 2
        assert t.state("a") == Tally(count=2, tags=["add", "add"])


def test_a_key_left_as_it_was_built_stores_nothing() -> None:
    with TestApp(app) as t:
        reply = t.send(Bump(k="fresh", how="nothing"))
        assert isinstance(reply, Bumped) and reply.count == 0
        assert t.state("fresh") is None


@pytest.mark.parametrize("how", ["wrong_type", "replace_with_dict"])
def test_a_state_that_does_not_fit_the_model_is_a_handler_error(how: str) -> None:
    with TestApp(app) as t:
        t.send(Bump(k="a"))
        reply = t.send(Bump(k="a", how=how))
        assert isinstance(reply, ErrorResponse) and reply.error_type == "handler_error"
        assert "Tally" in reply.error_message
        assert t.state("a") == Tally(count=1, tags=["add"])


def test_none_deletes_the_state() -> None:
    with TestApp(app) as t:
        t.send(Bump(k="a"))
        t.send(Bump(k="a", how="delete"))
        assert t.state("a") is None


def test_a_model_that_cannot_be_built_empty_starts_as_none() -> None:
    other = App(prefix="needs")
    seen: list[object] = []

    @other.command(Bump, key="k", state=Needs)
    def claim(cmd: Bump, ctx: Context) -> None:
        seen.append(ctx.state)
        ctx.state = Needs(owner=cmd.k)

    with TestApp(other) as t:
        t.send(Bump(k="x"))
        t.send(Bump(k="x"))
    assert seen == [None, Needs(owner="x")]


def test_an_app_has_one_state_model_and_it_is_not_a_message() -> None:
    other = App(prefix="two")
    other.command(Bump, key="k", state=Tally)(lambda c, ctx: None)

    class Other(Command):
        message_type: str = "command.other"
        k: str

    with pytest.raises(CatalogError, match="one state model"):
        other.command(Other, key="k", state=Needs)
    with pytest.raises(CatalogError, match="not a message"):
        other.command(Other, key="k", state=Bumped)  # type: ignore[arg-type]
    assert other.state_model is Tally
    assert other.catalog().is_state(Tally)
