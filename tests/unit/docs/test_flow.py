"""The per-topic SVG diagrams: well-formed, labelled, linked, escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from clubhouse.docs import DocsModel
from clubhouse.docs.flow import topic_diagram

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_commands_flow_from_clients_through_the_service_to_responses_and_events(
    docs: DocsModel,
) -> None:
    commands = docs.topics[0]
    svg = topic_diagram(docs, commands)
    texts = _texts(svg)
    assert texts[:2] == ["clients", "shop-commands"]
    assert set(commands.messages) <= set(texts)
    assert {"Clubhouse service", "shop-responses", "shop-events"} <= set(texts)
    links = [a.get("href") for a in ET.fromstring(svg).iter(f"{SVG}a")]
    assert "#msg-OpenTicketCommand" in links and "#topic-shop-events" in links


def test_responses_and_events_flow_out_of_the_service(docs: DocsModel) -> None:
    events = next(t for t in docs.topics if t.kind == "events")
    texts = _texts(topic_diagram(docs, events))
    assert (
        texts.index("Clubhouse service") < texts.index("shop-events") < texts.index("subscribers")
    )
    assert "HostileEvent" in texts


def test_labels_are_escaped(docs: DocsModel) -> None:
    topic = replace(docs.topics[2], messages=('<b a="1">&</b>',))
    svg = topic_diagram(docs, topic)
    assert '<b a="1">' not in svg
    assert '<b a="1">&</b>' in _texts(svg)  # parses back to the original label
