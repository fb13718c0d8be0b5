"""The list of top-level command groups the ``clubhouse`` CLI exposes."""

from __future__ import annotations

import click


def all_commands() -> list[click.Command]:
    """Every top-level command, in the order ``--help`` lists them."""
    found: list[click.Command] = []
    return found
