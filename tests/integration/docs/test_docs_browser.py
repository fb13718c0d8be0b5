"""The generated page in a real headless Chromium: names shown, search filters, screenshot."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from clubhouse.agents.messages import agents_catalog
from clubhouse.docs import DocsModel, build_docs_model, build_site, write_site
from tests.integration.docs.browser import Chromium

pytestmark = pytest.mark.integration

VISIBLE_ENTRIES = """Array.from(document.querySelectorAll('#sidebar .entry'))
  .filter(e => e.offsetParent !== null).map(e => e.querySelector('.label').textContent)"""
VISIBLE_SECTIONS = """Array.from(document.querySelectorAll('article'))
  .filter(a => a.offsetParent !== null).map(a => a.dataset.name)"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[DocsModel, Path]:
    """The docs of the built-in and the sample models, written once for the module."""
    catalog = agents_catalog()
    catalog.add_module("tests.unit.docs.sample_models")
    docs = build_docs_model(catalog, topic_prefix="clubhouse")
    out = tmp_path_factory.mktemp("site")
    write_site(build_site(docs), out)
    return docs, out / "index.html"


def test_every_message_name_shows(chromium: Chromium, site: tuple[DocsModel, Path]) -> None:
    docs, index = site
    chromium.open(index.as_uri())
    shown = chromium.evaluate("document.body.innerText")
    sidebar = chromium.evaluate(VISIBLE_ENTRIES)
    for name in docs.names:
        assert name in sidebar
        assert chromium.evaluate(f"document.getElementById('msg-{name}').offsetHeight") > 0
    assert all(name in shown for name in docs.names)
    # Loaded from file:// with nothing else fetched: no network, no missing resources.
    assert chromium.evaluate("performance.getEntriesByType('resource').length") == 0


def test_typing_in_the_search_box_filters_the_list(
    chromium: Chromium, site: tuple[DocsModel, Path]
) -> None:
    docs, index = site
    chromium.open(index.as_uri())
    chromium.evaluate("document.getElementById('search').focus()")
    chromium.type_text("ticket")
    assert chromium.evaluate(VISIBLE_ENTRIES) == ["OpenTicketCommand", "TicketOpenedResponse"]
    assert chromium.evaluate(VISIBLE_SECTIONS) == ["OpenTicketCommand", "TicketOpenedResponse"]
    groups = "Array.from(document.querySelectorAll('#sidebar .group:not([hidden])'))"
    assert chromium.evaluate(f"{groups}.map(g => g.dataset.group)") == ["command", "response"]
    # Every term must match: the message_type narrows it down further.
    chromium.type_text(" response.ticket")
    assert chromium.evaluate(VISIBLE_ENTRIES) == ["TicketOpenedResponse"]
    chromium.type_text("zzz")
    assert chromium.evaluate(VISIBLE_ENTRIES) == []
    assert chromium.evaluate("document.getElementById('no-match').hidden") is False
    chromium.press("Escape", "Escape", 27)  # clears the filter
    assert len(chromium.evaluate(VISIBLE_ENTRIES)) == len(docs.names) + len(docs.records)


def test_a_query_in_the_url_prefills_the_filter(
    chromium: Chromium, site: tuple[DocsModel, Path]
) -> None:
    _docs, index = site
    chromium.open(index.as_uri() + "?q=agentcreated")
    assert chromium.evaluate("document.getElementById('search').value") == "agentcreated"
    assert chromium.evaluate(VISIBLE_ENTRIES) == ["AgentCreatedResponse"]


def test_screenshot(chromium: Chromium, site: tuple[DocsModel, Path], tmp_path: Path) -> None:
    _docs, index = site
    chromium.open(index.as_uri() + "?q=ticket")
    chromium.evaluate("document.getElementById('msg-OpenTicketCommand').scrollIntoView()")
    png = chromium.screenshot(tmp_path / "docs-page.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    assert (width, height) == (1400, 900)
    assert len(data) > 30_000, "a rendered page, not a blank one, compresses to this much"
    assert len(set(_row_bytes(data))) > 50, "the image has content, not one flat colour"


def _row_bytes(png: bytes) -> bytes:
    """The decompressed pixel data (IDAT chunks), enough to see whether it varies."""
    pos, chunks = 8, []
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"IDAT":
            chunks.append(png[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return zlib.decompress(b"".join(chunks))[:400_000]
