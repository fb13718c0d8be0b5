"""The docs of an app that talks to others: the topics it follows and the commands it sends."""

from __future__ import annotations

import pytest

from clubhouse.application import App
from clubhouse.contracts.catalog import CatalogError
from clubhouse.docs.flow import topic_diagram
from clubhouse.docs.markdown import render_markdown
from clubhouse.docs.model import app_links, build_docs_model
from tests.unit.application.reactions import Charge, Charged, Order, orders


def test_followed_topics_and_sent_commands_are_documented_under_served_prefixes() -> None:
    app = App(prefix="shop")
    app.command(Order, key="order_id", sends={"billing": [Charge]})(lambda c, ctx: None)
    app.event(Charged, key="order_id", source="billing")(lambda e, ctx: None)
    links = app_links(app, app.prefixes("staging-shop", {"billing": "staging-billing"}))
    assert [(t.name, t.role, t.peer, t.messages) for t in links] == [
        ("staging-billing-events", "follows", "staging-billing", ("Charged",)),
        ("staging-billing-commands", "sends", "staging-billing", ("Charge",)),
    ]
    assert "forwarded to staging-shop-commands" in links[0].description
    assert "Charged by order_id" in links[0].description
    assert Charge in set(app.catalog())  # declared by sends=, so registered at start

    docs = build_docs_model(app.catalog(), topic_prefix="staging-shop", links=links)
    svg = topic_diagram(docs, links[0])
    assert "app staging-billing" in svg and "feed loop" in svg
    assert "app staging-billing" in topic_diagram(docs, links[1])
    assert links[0].anchor != links[1].anchor
    markdown = render_markdown(docs)
    assert "## Other apps" in markdown and "`staging-billing-commands`" in markdown


def test_an_app_that_follows_its_own_events_says_so() -> None:
    [own] = [t for t in app_links(orders, orders.prefixes()) if t.name == "orders-events"]
    assert own.description.startswith("Followed: this app's own events")


def test_sends_takes_commands_by_app_prefix() -> None:
    app = App(prefix="x")
    with pytest.raises(CatalogError, match="not a Command"):
        app.command(Order, key="order_id", sends={"billing": [Charged]})  # type: ignore[list-item]
    with pytest.raises(CatalogError, match="topic prefix of an app"):
        app.command(Order, key="order_id", sends={"": [Charge]})


def test_a_state_model_is_documented_as_state_with_its_subject() -> None:
    from pydantic import BaseModel

    class Balance(BaseModel):
        total: int = 0

    app = App(prefix="bank")
    app.command(Order, key="order_id", state=Balance)(lambda c, ctx: None)
    docs = build_docs_model(app.catalog(), topic_prefix="bank")
    doc = docs.message("Balance")
    assert (doc.kind, doc.topic, doc.subject) == ("state", None, "bank-Balance-value")
    assert "**State:** [Balance]" in render_markdown(docs)
