"""The single-file HTML page: Jinja2 templates with autoescaping, inline CSS, JS and SVG.

Everything from the models (docstrings, descriptions, defaults, names) goes through the
template's autoescaping; only the package's own CSS, JS and the SVG built by ``flow`` (which
escapes its labels itself) are inserted as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from clubhouse.docs.avro_types import TypeText, short_name
from clubhouse.docs.changelog import FieldChange, change_css, change_detail, change_where
from clubhouse.docs.flow import topic_diagram
from clubhouse.docs.model import (
    KIND_LABELS,
    KIND_TITLES,
    KINDS,
    DocsModel,
    FieldDoc,
    TopicDoc,
    anchor_id,
)


def render_html(docs: DocsModel) -> str:
    """The complete ``index.html`` for ``docs``."""
    env = _environment()
    fields_tpl = env.get_template("fields.html.j2")
    changes_tpl = env.get_template("changes.html.j2")

    def type_html(parts: TypeText) -> Markup:
        out = []
        for part in parts:
            anchor = docs.link(part.ref)
            text = escape(part.text)
            out.append(Markup('<a href="#{}">{}</a>').format(anchor, text) if anchor else text)
        return Markup("").join(out)

    def type_link(fullname: str) -> Markup:
        anchor = docs.link(fullname)
        name = short_name(fullname)
        if anchor is None:
            return Markup("<code>{}</code>").format(name)
        return Markup('<a href="#{}"><code>{}</code></a>').format(anchor, name)

    def message_link(name: str) -> Markup:
        href = docs.link_message(name)
        if href is None:
            return Markup("<code>{}</code>").format(name)
        return Markup('<a href="{}"><code>{}</code></a>').format(href, name)

    def fields_table(fields: Sequence[FieldDoc]) -> Markup:
        return Markup(fields_tpl.render(fields=fields, type_html=type_html))

    def changes_list(changes: Sequence[FieldChange], empty: str) -> Markup:
        return Markup(changes_tpl.render(changes=changes, empty=empty, change_css=change_css,
                                         change_detail=change_detail,
                                         change_where=change_where))  # fmt: skip

    def flow(topic: TopicDoc) -> Markup:
        return Markup(topic_diagram(docs, topic))  # flow escapes every label it writes

    return env.get_template("index.html.j2").render(
        docs=docs,
        kinds=KINDS,
        kind_titles=KIND_TITLES,
        kind_labels=KIND_LABELS,
        css=Markup(_asset("style.css")),
        js=Markup(_asset("script.js")),
        paragraphs=paragraphs,
        fields_table=fields_table,
        changes_list=changes_list,
        type_link=type_link,
        message_link=message_link,
        topic_anchor=lambda name: anchor_id("topic", name),
        flow=flow,
    )


def paragraphs(text: str) -> Markup:
    """``text`` escaped, blank-line separated paragraphs as ``<p>``; empty says so."""
    chunks = [c.strip() for c in text.split("\n\n") if c.strip()]
    if not chunks:
        return Markup('<p class="nodoc">No description.</p>')
    return Markup("").join(Markup("<p>{}</p>").format(c) for c in chunks)


def _environment() -> Environment:
    # A new environment per page: no module-level state, and templates are tiny.
    return Environment(
        loader=PackageLoader("clubhouse.docs", "templates"),
        autoescape=select_autoescape(["html", "html.j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )


def _asset(name: str) -> str:
    text = resources.files("clubhouse.docs").joinpath("templates", name).read_text("utf-8")
    if "</script" in text.lower() or "</style" in text.lower():
        # Inlined assets must not close their own element early.
        raise ValueError(f"templates/{name} contains a closing </script> or </style> tag")
    return text
