"""Avro record schemas as JSON text, for tests that feed schemas to a checker or a registry."""

from __future__ import annotations

import json
from typing import Any


def record(name: str, *fields: tuple[str, Any] | tuple[str, Any, Any], **extra: Any) -> str:
    """An Avro record schema as JSON text; a field is (name, type) or (name, type, default)."""
    out = []
    for field in fields:
        item: dict[str, Any] = {"name": field[0], "type": field[1]}
        if len(field) == 3:
            item["default"] = field[2]
        out.append(item)
    return json.dumps({"type": "record", "name": name, "fields": out, **extra})
