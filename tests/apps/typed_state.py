"""A small app whose state is a Pydantic model, and two later versions of that model: one
that can read the stored state (a field added with a default), one that cannot (a field
added without one). The versions are picked with ``TALLY_VERSION`` in the environment."""

from __future__ import annotations

import os

from pydantic import BaseModel

from clubhouse.application import App, Context
from clubhouse.contracts import Command, Response


class Add(Command):
    message_type: str = "command.add"
    k: str
    text: str


class Added(Response):
    message_type: str = "response.added"
    count: int
    note: str


VERSION = os.environ.get("TALLY_VERSION", "1")

if VERSION == "1":

    class Tally(BaseModel):
        count: int = 0
        last: str = ""

elif VERSION == "2":

    class Tally(BaseModel):  # type: ignore[no-redef]
        count: int = 0
        last: str = ""
        note: str = "new in v2"

else:

    class Tally(BaseModel):  # type: ignore[no-redef]
        count: int = 0
        last: str = ""
        note: str  # no default: a stored v1 state cannot be read into it


app = App(prefix="typed")


@app.command(Add, key="k", state=Tally)
def add(cmd: Add, ctx: Context) -> Added:
    ctx.state.count += 1
    ctx.state.last = cmd.text
    return Added(count=ctx.state.count, note=getattr(ctx.state, "note", ""))
