"""Plain-text tables: columns as wide as their longest cell, an optional rule under the header."""

from __future__ import annotations

from clubhouse.cli.tables import table_lines


def test_columns_are_left_aligned_to_their_longest_cell() -> None:
    assert table_lines([("MODEL", "ID"), ("Order", 7), ("X", "1234567")]) == [
        "MODEL  ID     ",
        "Order  7      ",
        "X      1234567",
    ]


def test_rule_underlines_the_header() -> None:
    assert table_lines([("run", "s"), ("cold", "0.5")], rule=True) == [
        "run   s  ",
        "----  ---",
        "cold  0.5",
    ]


def test_no_rows_no_lines() -> None:
    assert table_lines([]) == []
