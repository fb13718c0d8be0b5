"""``clubhouse.avro.checker`` subclasses the avro package's checker, so the versions it was
verified on are pinned: the installed one must lie inside the declared range, and the hooks
the subclass overrides must still be there."""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import tomllib
from pathlib import Path

import avro.compatibility

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_the_avro_requirement_has_an_upper_bound_the_installed_version_meets() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    (spec,) = [d for d in dependencies if re.match(r"avro\b", d)]
    lower = re.search(r">=\s*([\d.]+)", spec)
    upper = re.search(r"<\s*([\d.]+)", spec)
    assert lower and upper, f"{spec!r} needs both bounds"
    installed = version(importlib.metadata.version("avro"))
    assert version(lower[1]) <= installed < version(upper[1])


def test_the_overridden_hooks_keep_their_signatures() -> None:
    checker = avro.compatibility.ReaderWriterCompatibilityChecker
    assert list(inspect.signature(checker.calculate_compatibility).parameters) == [
        "self", "reader", "writer", "location"
    ]  # fmt: skip
    assert list(inspect.signature(checker.check_reader_writer_record_fields).parameters) == [
        "self", "reader", "writer", "location"
    ]  # fmt: skip
    assert list(inspect.signature(avro.compatibility.lookup_writer_field).parameters) == [
        "writer_schema", "reader_field"
    ]  # fmt: skip
