"""Golden files of sample models that cover mapping rows the built-in contracts do not use.

Regenerate deliberately with ``CLUBHOUSE_UPDATE_GOLDEN=1 pytest tests/unit/avro/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel

from tests.unit.avro.sample_models import ContainersOfOptionals
from tests.unit.avro.test_golden import render

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "golden" / "samples"
SAMPLES: list[type[BaseModel]] = [ContainersOfOptionals]


@pytest.mark.parametrize("model", SAMPLES, ids=lambda m: m.__name__)
def test_sample_schema_matches_golden_file(model: type[BaseModel]) -> None:
    path = SAMPLES_DIR / f"{model.__name__}.avsc"
    current = render(model)
    if os.environ.get("CLUBHOUSE_UPDATE_GOLDEN") == "1":
        path.write_text(current)
    assert path.exists(), f"{path} is missing; run with CLUBHOUSE_UPDATE_GOLDEN=1 to create it"
    assert current == path.read_text()
