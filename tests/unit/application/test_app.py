"""The App API through TestApp: the service's processor and codec, without a broker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clubhouse.application import App, Context
from clubhouse.contracts import BaseMessage, Command, ErrorResponse, Event, Response
from clubhouse.contracts.catalog import CatalogError
from clubhouse.testing import TestApp
from tests.unit.application.shop import (
    CancelOrderCommand,
    ExplodeCommand,
    NotifyCommand,
    OrderAcceptedResponse,
    OrderCancelledResponse,
    OrderPlacedEvent,
    PlaceOrderCommand,
    app,
)


@pytest.fixture
def shop() -> Any:
    with TestApp(app) as t:
        yield t


def test_a_handler_answers_keeps_keyed_state_and_emits_events(shop: TestApp) -> None:
    first = PlaceOrderCommand(order_id="o1", item="book")
    reply = shop.send(first)
    assert isinstance(reply, OrderAcceptedResponse)
    assert reply.in_response_to == first.message_id  # set by the framework
    assert reply.total_items == 1
    again = shop.send(PlaceOrderCommand(order_id="o1", item="pen", quantity=2))
    assert isinstance(again, OrderAcceptedResponse) and again.total_items == 3
    other = shop.send(PlaceOrderCommand(order_id="o2", item="mug"))
    assert isinstance(other, OrderAcceptedResponse) and other.total_items == 1
    assert shop.state("o1") == {
        "items": [{"item": "book", "quantity": 1}, {"item": "pen", "quantity": 2}],
        "status": "open",
    }
    assert [(e.order_id, e.item) for e in shop.events] == [  # type: ignore[attr-defined]
        ("o1", "book"), ("o1", "pen"), ("o2", "mug"),
    ]  # fmt: skip


def test_an_async_handler_runs_and_an_empty_state_deletes_the_key(shop: TestApp) -> None:
    shop.send(PlaceOrderCommand(order_id="o1", item="book"))
    reply = shop.send(CancelOrderCommand(order_id="o1"))
    assert isinstance(reply, OrderCancelledResponse)
    assert shop.state("o1") is None


def test_a_rejection_is_an_error_response_of_its_type(shop: TestApp) -> None:
    missing = CancelOrderCommand(order_id="nope")
    reply = shop.send(missing)
    assert isinstance(reply, ErrorResponse)
    assert (reply.error_type, reply.in_response_to) == ("order_not_found", missing.message_id)
    bad = shop.send(PlaceOrderCommand(order_id="o9", item="x", quantity=0))
    assert isinstance(bad, ErrorResponse) and bad.error_type == "bad_quantity"
    assert shop.state("o9") is None


def test_a_raising_handler_answers_with_handler_error_and_keeps_nothing(shop: TestApp) -> None:
    boom = ExplodeCommand(order_id="o1")
    reply = shop.send(boom)
    assert isinstance(reply, ErrorResponse)
    assert reply.error_type == "handler_error"
    assert reply.in_response_to == boom.message_id
    assert reply.error_message == "ValueError: the handler has a bug"
    assert shop.state("o1") is None
    assert shop.events == []
    # ...and the service carries on.
    assert isinstance(shop.send(PlaceOrderCommand(order_id="o1", item="b")), OrderAcceptedResponse)


def test_a_handler_returning_none_sends_only_its_events(shop: TestApp) -> None:
    assert shop.send(NotifyCommand(order_id="o1")) is None
    assert [e.item for e in shop.events] == ["notified"]  # type: ignore[attr-defined]


def test_a_redelivered_command_has_one_effect_and_the_same_answer(shop: TestApp) -> None:
    place = PlaceOrderCommand(order_id="o1", item="book")
    first, second = shop.send_many([place, place])
    assert first == second
    assert shop.state("o1")["items"] == [{"item": "book", "quantity": 1}]  # type: ignore[index]


def test_an_unknown_command_gets_unsupported_command() -> None:
    class StrayCommand(Command):
        message_type: str = "command.stray"
        order_id: str

    other = App(prefix="shop")
    other.models(StrayCommand)
    with TestApp(other) as t:
        reply = t.send(StrayCommand(order_id="x"))
    assert isinstance(reply, ErrorResponse) and reply.error_type == "unsupported_command"


def test_state_that_is_not_json_and_a_result_that_is_not_a_response_are_errors() -> None:
    class SetCommand(Command):
        message_type: str = "command.set"
        k: str

    odd = App(prefix="odd")

    @odd.command(SetCommand, key="k")
    def handler(cmd: SetCommand, ctx: Context) -> Any:
        if cmd.k == "set":
            ctx.state["value"] = {1, 2}
            return None
        return "not a response"

    with TestApp(odd) as t:
        bad_state = t.send(SetCommand(k="set"))
        bad_result = t.send(SetCommand(k="str"))
    assert isinstance(bad_state, ErrorResponse) and "JSON" in bad_state.error_message
    assert isinstance(bad_result, ErrorResponse) and "returned str" in bad_result.error_message
    assert bad_state.error_type == bad_result.error_type == "handler_error"


def test_the_catalog_holds_what_the_handlers_name_bases_first() -> None:
    names = [m.__name__ for m in app.catalog()]
    assert names[:4] == ["BaseMessage", "Command", "Response", "Event"]
    assert set(names) == {
        "BaseMessage", "Command", "Response", "Event", "ErrorResponse",
        "PlaceOrderCommand", "CancelOrderCommand", "ExplodeCommand", "NotifyCommand",
        "OrderAcceptedResponse", "OrderCancelledResponse", "OrderPlacedEvent",
    }  # fmt: skip


def test_registration_mistakes_are_refused_at_import_time() -> None:
    bad = App()
    with pytest.raises(CatalogError, match="no field 'agent_id'.*order_id"):
        bad.command(PlaceOrderCommand, key="agent_id")
    with pytest.raises(CatalogError, match="not a subclass of clubhouse Command"):
        bad.command(OrderPlacedEvent, key="order_id")  # type: ignore[type-var]
    bad.command(PlaceOrderCommand, key="order_id")(lambda c, x: None)
    with pytest.raises(CatalogError, match="already has a handler"):
        bad.command(PlaceOrderCommand, key="order_id")
    with pytest.raises(CatalogError, match="BaseMessage"):
        bad.models(int)  # type: ignore[arg-type]


def test_key_for_reads_the_declared_field() -> None:
    assert app.key_for(PlaceOrderCommand(order_id="o7", item="x")) == "o7"

    class Elsewhere(Command):
        message_type: str = "command.elsewhere"

    assert app.key_for(Elsewhere()) is None
    assert isinstance(Response(), BaseMessage) and isinstance(Event(), BaseMessage)


def test_the_public_names_import_from_the_top_and_lazily() -> None:
    import subprocess
    import sys

    import clubhouse

    for name in clubhouse.__all__:
        assert getattr(clubhouse, name) is not None, name
    assert clubhouse.App is App
    # The command line imports `clubhouse` first: that alone must not pull pydantic in.
    probe = "import sys, clubhouse; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_names_type_checkers_see_are_the_names_exported() -> None:
    import ast

    import clubhouse

    tree = ast.parse(Path(clubhouse.__file__).read_text())
    typed: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module
                for alias in imp.names:
                    assert alias.asname == alias.name, "an explicit re-export: `import X as X`"
                    typed[alias.name] = imp.module
    assert typed == clubhouse._EXPORTS
