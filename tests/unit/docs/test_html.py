"""The single HTML page: complete, self-contained, escaped, internally linked."""

from __future__ import annotations

import json
import re
from functools import partial
from html import unescape
from html.parser import HTMLParser

from clubhouse.contracts import MessageCatalog
from clubhouse.docs import DocsModel, build_docs_model, registry_doc, render_html
from clubhouse.messaging.subjects import model_schema
from tests.fakes.registry import FakeRegistry


class _Page(HTMLParser):
    """Collects ids, internal links, resource attributes and element texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.resources: list[str] = []
        self.tags: list[str] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if values.get("href"):
            self.hrefs.append(str(values["href"]))
        self.resources += [f"{tag}[{k}]" for k in ("src", "srcset", "data") if k in values]
        if tag in ("h2", "pre", "script", "style", "title"):
            self._open.append(tag)
            self.texts.setdefault(tag, []).append("")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.texts[self._open[-1]][-1] += data


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_every_message_and_record_has_a_section_and_a_sidebar_entry(docs: DocsModel) -> None:
    html = render_html(docs)
    page = _parse(html)
    headings = set(page.texts["h2"])
    for message in docs.messages:
        assert message.name in headings
        assert message.anchor in page.ids
        assert f'data-target="{message.anchor}"' in html
    for record in docs.records:
        assert record.name in headings and record.anchor in page.ids


def test_the_page_is_self_contained(docs: DocsModel) -> None:
    html = render_html(docs)
    page = _parse(html)
    assert page.resources == []  # nothing loaded from anywhere: no src, srcset or data
    assert "link" not in page.tags and "iframe" not in page.tags
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html)
    assert "default-src 'none'" in html  # the CSP forbids any fetch, so a slip would show
    external = [h for h in page.hrefs if not h.startswith("#")]
    assert external == []


def test_every_internal_link_has_a_target(docs: DocsModel) -> None:
    page = _parse(render_html(docs))
    targets = {h[1:] for h in page.hrefs if h.startswith("#")}
    assert targets, "the page should link its sections"
    assert targets - page.ids == set()


def test_nested_records_are_linked_from_field_types(docs: DocsModel) -> None:
    html = render_html(docs)
    address = next(r for r in docs.records if r.name == "Address")
    assert f'<a href="#{address.anchor}">Address</a>' in html
    # The record's own section links back to the messages that use it.
    assert '<a href="#msg-TicketOpenedResponse"><code>TicketOpenedResponse</code></a>' in html


def test_docstrings_and_descriptions_are_escaped(docs: DocsModel) -> None:
    html = render_html(docs)
    page = _parse(html)
    assert len(page.texts["script"]) == 1  # only the page's own script
    assert "<script>alert" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#34;docstring&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_examples_and_raw_schemas_are_shown_as_json(docs: DocsModel) -> None:
    page = _parse(render_html(docs))
    blocks = [unescape(t) for t in page.texts["pre"]]
    for message in docs.messages:
        assert message.example.to_json() in blocks
        assert message.schema_json in blocks
    assert json.loads(docs.message("OpenTicketCommand").example.to_json())["ticket_id"]


def test_flow_diagrams_are_inline_svg_per_topic(docs: DocsModel) -> None:
    html = render_html(docs)
    for topic in docs.topics:
        assert f'id="flow-{topic.anchor}"' in html
    assert html.count("<svg") == len(docs.topics)


def test_rendering_is_deterministic(catalog: MessageCatalog) -> None:
    first = render_html(build_docs_model(catalog, topic_prefix="shop"))
    second = render_html(build_docs_model(catalog, topic_prefix="shop"))
    assert first == second


def test_registry_sections_only_with_a_registry(catalog: MessageCatalog, docs: DocsModel) -> None:
    assert "Registry history" not in render_html(docs)
    registry = FakeRegistry()
    subject = "shop-CreateAgentCommand-value"
    current = json.loads(model_schema(catalog.get("CreateAgentCommand")))
    older = {**current, "fields": [f for f in current["fields"] if f["name"] != "metadata"]}
    registry.register(subject, json.dumps(older))
    registry.register(subject, json.dumps(current))
    with_registry = build_docs_model(catalog, topic_prefix="shop", registry_url="http://reg:8081",
                                     registry_lookup=partial(registry_doc, registry))  # fmt: skip
    html = render_html(with_registry)
    section = html[html.index('id="msg-CreateAgentCommand"') :]
    section = section[: section.index("</article>")]
    assert "Registry history" in section
    assert re.search(r"id <strong>2</strong>, version <strong>2</strong>", section)
    assert '<tr class="version current" data-version="2">' in section
    assert '<tr class="version" data-version="1">' in section
    assert '<span class="chg added">added</span> <code>metadata</code>' in section
    assert "<code>BACKWARD</code>" in section
    assert "http://reg:8081" in html
