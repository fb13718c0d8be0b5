"""Golden files: a contract's schema may only change together with its checked-in copy.

To accept a deliberate change: ``CLUBHOUSE_UPDATE_GOLDEN=1 pytest tests/unit/avro/test_golden.py``
and commit the files under tests/golden/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import BaseModel

from clubhouse.agents.messages import agents_catalog
from clubhouse.avro import canonical_json, model_to_avro

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
CATALOG = list(agents_catalog())


def render(model: type[BaseModel]) -> str:
    return json.dumps(json.loads(canonical_json(model_to_avro(model))), indent=2) + "\n"


@pytest.mark.parametrize("model", CATALOG, ids=lambda m: m.__name__)
def test_schema_matches_golden_file(model: type[BaseModel]) -> None:
    path = GOLDEN / f"{model.__name__}.avsc"
    current = render(model)
    if os.environ.get("CLUBHOUSE_UPDATE_GOLDEN") == "1":
        path.write_text(current)
    assert path.exists(), f"{path} is missing; run with CLUBHOUSE_UPDATE_GOLDEN=1 to create it"
    assert current == path.read_text(), (
        f"{model.__name__}'s Avro schema changed. If that is deliberate, regenerate with "
        "CLUBHOUSE_UPDATE_GOLDEN=1 pytest tests/unit/avro/test_golden.py and commit it"
    )


def test_no_stale_golden_files() -> None:
    expected = {f"{m.__name__}.avsc" for m in CATALOG}
    assert {p.name for p in GOLDEN.glob("*.avsc")} == expected
