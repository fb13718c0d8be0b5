"""Avro naming rules: what counts as a valid name, and splitting full names."""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_avro_name(name: str) -> bool:
    """True when ``name`` may be an Avro record, field, enum or symbol name."""
    return _NAME.fullmatch(name) is not None


def split_fullname(fullname: str) -> tuple[str, str]:
    """``"a.b.Name"`` -> ``("Name", "a.b")``; a name without a namespace gets ``""``."""
    namespace, _, name = fullname.rpartition(".")
    return name, namespace
