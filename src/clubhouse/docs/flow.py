"""Inline SVG flow diagrams, one per topic: commands -> service -> responses and events, and
the other apps' topics an app follows or sends commands to.

Plain SVG text with every label escaped, laid out in columns with fixed arithmetic, so the
diagram needs no script, no font metrics and no network, and the same docs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise

from clubhouse.docs.model import DocsModel, TopicDoc

_CHAR_W = 7.8  # average width of a 12px sans-serif character (bold titles), so labels fit
_LINE_H = 18
_HEAD_H = 30
_PAD = 12
_COL_GAP = 56
_ROW_GAP = 16
_MARGIN = 10

_COLOURS = {
    "commands": "#2563eb",
    "responses": "#059669",
    "events": "#b45309",
    "dead-letters": "#b91c1c",
    "service": "#374151",
    "party": "#6b7280",
}


@dataclass(frozen=True, slots=True)
class _Node:
    title: str
    colour: str
    href: str | None = None
    lines: tuple[tuple[str, str | None], ...] = ()  # (label, href)
    emphasis: bool = False

    @property
    def width(self) -> float:
        longest = max([len(self.title), *(len(t) for t, _ in self.lines)])
        return max(128.0, longest * _CHAR_W + 2 * _PAD)

    @property
    def height(self) -> float:
        return _HEAD_H + (len(self.lines) * _LINE_H + _PAD // 2 if self.lines else 0)


@dataclass(slots=True)
class _Placed:
    node: _Node
    x: float
    y: float
    w: float
    h: float


def topic_diagram(docs: DocsModel, topic: TopicDoc) -> str:
    """The SVG for ``topic``: where its messages come from and where they go."""
    by_kind = {t.kind: t for t in docs.topics}

    def topic_node(t: TopicDoc, *, full: bool) -> _Node:
        lines = tuple((name, docs.link_message(name)) for name in t.messages) if full else ()
        return _Node(t.name, _COLOURS[t.kind], f"#{t.anchor}", lines, emphasis=full)

    service = _Node("Clubhouse service", _COLOURS["service"])
    commands = by_kind["commands"]
    columns: list[list[_Node]]
    if topic.role == "follows":
        columns = [[_Node(f"app {topic.peer}", _COLOURS["party"])], [topic_node(topic, full=True)],
                   [_Node("feed loop (keyed by each handler's key)", _COLOURS["service"])],
                   [topic_node(commands, full=False)]]  # fmt: skip
    elif topic.role == "sends":
        columns = [[topic_node(commands, full=False)], [service], [topic_node(topic, full=True)],
                   [_Node(f"app {topic.peer}", _COLOURS["party"])]]  # fmt: skip
    elif topic.kind == "commands":
        outputs = [topic_node(by_kind[k], full=False) for k in ("responses", "events")]
        columns = [[_Node("clients", _COLOURS["party"])], [topic_node(topic, full=True)],
                   [service], outputs]  # fmt: skip
    else:
        reader = {
            "responses": "clients (by in_response_to)",
            "events": "subscribers",
            "dead-letters": "operators",
        }[topic.kind]
        columns = [[topic_node(commands, full=False)], [service], [topic_node(topic, full=True)],
                   [_Node(reader, _COLOURS["party"])]]  # fmt: skip
    return _render(columns, _svg_id(topic.anchor), f"Message flow through {topic.name}")


def _svg_id(anchor: str) -> str:
    return f"flow-{anchor}"


def _render(columns: Sequence[Sequence[_Node]], svg_id: str, label: str) -> str:
    placed: list[list[_Placed]] = []
    x = float(_MARGIN)
    heights = [sum(n.height for n in col) + _ROW_GAP * (len(col) - 1) for col in columns]
    total_h = max(heights) + 2 * _MARGIN
    for col, col_h in zip(columns, heights, strict=True):
        width = max(n.width for n in col)
        y = (total_h - col_h) / 2
        row: list[_Placed] = []
        for node in col:
            row.append(_Placed(node, x, y, width, node.height))
            y += node.height + _ROW_GAP
        placed.append(row)
        x += width + _COL_GAP
    total_w = x - _COL_GAP + _MARGIN
    marker = f"{svg_id}-arrow"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow" id="{escape(svg_id)}" '
        f'viewBox="0 0 {total_w:.0f} {total_h:.0f}" width="{total_w:.0f}" '
        f'height="{total_h:.0f}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<defs><marker id="{escape(marker)}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280"/></marker></defs>',
    ]
    for left, right in pairwise(placed):
        for a in left:
            for b in right:
                out.append(_arrow(a, b, marker))
    for row in placed:
        for p in row:
            out.append(_box(p))
    out.append("</svg>")
    return "\n".join(out)


def _arrow(a: _Placed, b: _Placed, marker: str) -> str:
    x1, y1 = a.x + a.w, a.y + min(a.h, _HEAD_H * 2) / 2
    x2, y2 = b.x - 2, b.y + min(b.h, _HEAD_H * 2) / 2
    mid = (x1 + x2) / 2
    return (
        f'<path d="M {x1:.1f} {y1:.1f} C {mid:.1f} {y1:.1f}, {mid:.1f} {y2:.1f}, '
        f'{x2:.1f} {y2:.1f}" fill="none" stroke="#9ca3af" stroke-width="1.5" '
        f'marker-end="url(#{escape(marker)})"/>'
    )


def _box(p: _Placed) -> str:
    n = p.node
    fill = f"{n.colour}1a" if n.emphasis else "#ffffff"
    stroke_w = 2.5 if n.emphasis else 1.5
    parts = [
        f'<rect x="{p.x:.1f}" y="{p.y:.1f}" width="{p.w:.1f}" height="{p.h:.1f}" rx="8" '
        f'fill="{fill}" stroke="{n.colour}" stroke-width="{stroke_w}"/>',
        _linked(
            n.href,
            f'<text x="{p.x + _PAD:.1f}" y="{p.y + 20:.1f}" class="flow-title" '
            f'fill="{n.colour}" font-weight="bold">{escape(n.title)}</text>',
        ),
    ]
    for i, (label, href) in enumerate(n.lines):
        y = p.y + _HEAD_H + (i + 1) * _LINE_H - 4
        parts.append(
            _linked(
                href,
                f'<text x="{p.x + _PAD:.1f}" y="{y:.1f}" class="flow-msg" '
                f'fill="#111827">{escape(label)}</text>',
            )
        )
    return "".join(parts)


def _linked(href: str | None, inner: str) -> str:
    return inner if href is None else f'<a href="{escape(href)}">{inner}</a>'
