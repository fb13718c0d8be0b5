"""Plain-text tables for the terminal: left-aligned columns as wide as their longest cell."""

from __future__ import annotations

from collections.abc import Sequence


def table_lines(rows: Sequence[Sequence[object]], *, rule: bool = False) -> list[str]:
    """``rows`` as aligned lines, the first row being the header; ``rule`` underlines it."""
    cells = [[str(cell) for cell in row] for row in rows]
    if not cells:
        return []
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    if rule:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return lines
