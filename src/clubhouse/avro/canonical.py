"""Deterministic JSON text of Avro schemas, whatever order their attributes were built in.

This is the converter's output form (what golden files and ``clubhouse schemas export``
show); the registry keeps its own canonical text, the identity of stored schemas
(``clubhouse.registry.canonical``).
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(schema: Any) -> str:
    """Deterministic compact JSON: attributes in a fixed order, whatever order they came in."""
    return json.dumps(_ordered(schema), separators=(",", ":"), ensure_ascii=False)


_KEY_ORDER = (
    "name", "type", "namespace", "doc", "aliases", "fields", "symbols", "default",
    "items", "values", "size", "logicalType", "precision", "scale", "order",
)  # fmt: skip


def _ordered(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_ordered(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    rank = {k: i for i, k in enumerate(_KEY_ORDER)}
    keys = sorted(schema, key=lambda k: (rank.get(k, len(rank)), k))
    out: dict[str, Any] = {}
    for key in keys:
        value = schema[key]
        # A default is data, not schema: its keys keep the order they were given.
        out[key] = value if key == "default" else _ordered(value)
    return out
