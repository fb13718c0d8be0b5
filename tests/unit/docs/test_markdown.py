"""messages.md: a section per message, tables that hold together, no raw HTML from models."""

from __future__ import annotations

import json
import re
from functools import partial

from clubhouse.contracts import MessageCatalog
from clubhouse.docs import DocsModel, build_docs_model, registry_doc, render_markdown
from clubhouse.docs.markdown import cell, code
from clubhouse.messaging.subjects import model_schema
from tests.fakes.registry import FakeRegistry


def test_every_message_has_its_own_section_with_anchor(docs: DocsModel) -> None:
    md = render_markdown(docs)
    for message in docs.messages:
        assert f'<a id="{message.anchor}"></a>\n## {message.name}\n' in md
        assert f"subject `{message.subject}`" in md
    for record in docs.records:
        assert f"### {record.name}\n" in md


def test_examples_are_json_blocks(docs: DocsModel) -> None:
    md = render_markdown(docs)
    blocks = re.findall(r"\*\*Example\*\*\n\n(?:>[^\n]*\n\n)?```json\n(.*?)\n```", md, re.S)
    assert len(blocks) == len(docs.messages)
    assert [json.loads(b) for b in blocks] == [m.example.data for m in docs.messages]


def test_model_text_cannot_inject_html_or_break_tables(docs: DocsModel) -> None:
    md = render_markdown(docs)
    # Fenced code (examples, raw schemas) is shown literally by Markdown; everywhere else
    # model text must not be able to open an HTML element.
    prose = re.sub(r"```json\n.*?\n```", "", md, flags=re.S)
    assert "<script>" not in prose and "<img" not in prose
    assert "&lt;script&gt;" in prose
    row = next(line for line in md.splitlines() if line.startswith("| `note` |"))
    # Five cells: the pipes inside the description are escaped, not column breaks.
    assert len(re.findall(r"(?<!\\)\|", row)) == 6
    assert cell("a\nb | c") == "a b \\| c"
    assert code("x`y") == "``x`y``"


def test_nested_types_link_to_their_record_section(docs: DocsModel) -> None:
    md = render_markdown(docs)
    address = next(r for r in docs.records if r.name == "Address")
    assert f"null \\| [Address](#{address.anchor})" in md


def test_registry_history_is_listed(catalog: MessageCatalog) -> None:
    registry = FakeRegistry()
    subject = "shop-DeleteAgentCommand-value"
    current = json.loads(model_schema(catalog.get("DeleteAgentCommand")))
    older = {**current, "fields": [*current["fields"], {"name": "reason", "type": "string"}]}
    registry.register(subject, json.dumps(older))
    registry.register(subject, json.dumps(current))
    docs = build_docs_model(catalog, topic_prefix="shop",
                            registry_lookup=partial(registry_doc, registry))  # fmt: skip
    md = render_markdown(docs)
    assert "Schema id **2**, version **2** · compatibility `BACKWARD`" in md
    assert "- v2, id 2 (this model): `reason` removed (was string (no default))" in md
    assert "- v1, id 1: first version" in md
