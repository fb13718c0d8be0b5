"""The errors the documentation generator raises on purpose."""

from __future__ import annotations

from clubhouse.errors import ClubhouseError


class DocsError(ClubhouseError):
    """The documentation could not be built or written; the message says what and where."""
