"""The field-level changelog between two schema versions, as the docs show it.

The diff itself is ``clubhouse.evolution.diff.diff_schemas``, the one ``clubhouse schemas diff``
prints, so the docs and the command line never disagree. This module parses schema text for
it and words each change for a page: a CSS-friendly kind, where, and what changed.
"""

from __future__ import annotations

from clubhouse.avro.parsing import SchemaTextError, parse_schema
from clubhouse.docs.errors import DocsError
from clubhouse.evolution.diff import FieldChange
from clubhouse.evolution.diff import diff_schemas as _diff_parsed

__all__ = ["FieldChange", "change_css", "change_detail", "change_where", "diff_schema_texts"]


def diff_schema_texts(old: str, new: str, *, old_name: str, new_name: str) -> list[FieldChange]:
    """The changes from schema text ``old`` to ``new``; the names say where each came from."""
    try:
        before = parse_schema(old, where=old_name)
        after = parse_schema(new, where=new_name)
    except SchemaTextError as exc:
        raise DocsError(f"cannot compare {old_name} with {new_name}: {exc}") from exc
    return _diff_parsed(before, after)


def change_where(change: FieldChange) -> str:
    """The field path, or ``(record)`` for a change to the record itself."""
    return change.path or "(record)"


def change_detail(change: FieldChange) -> str:
    """What changed, e.g. ``long (no default)`` or ``string -> long``."""
    if change.kind == "added":
        return change.new or ""
    if change.kind == "removed":
        return f"was {change.old}" if change.old else ""
    return f"{change.old} \u2192 {change.new}"


def change_css(change: FieldChange) -> str:
    """A class name for the kind: ``added``, ``removed``, ``type-changed``, ..."""
    return change.kind.replace(" ", "-")
