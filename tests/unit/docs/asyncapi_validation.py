"""Validate an AsyncAPI 3.0 document against the official JSON Schema vendored in data/."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

SCHEMA_PATH = Path(__file__).parent / "data" / "asyncapi-3.0.0.json"


@cache
def _validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft7Validator(schema)


def asyncapi_errors(document: Any) -> list[str]:
    """Every validation error, as ``path: message``; empty when the document is valid."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message[:300]}"
        for error in _validator().iter_errors(document)
    ]
