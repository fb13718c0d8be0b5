"""Schema files: stable, reversible names; exports that are byte-stable; directory sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clubhouse.agents.messages import agents_catalog
from clubhouse.evolution import DirectorySource, SchemaDirectoryError, export_models
from clubhouse.evolution.files import parse_filename, schema_filename, write_schema


@pytest.mark.parametrize("subject", ["app-Order-value", "odd/subject:with spaces", "x.v2y"])
@pytest.mark.parametrize("version", [None, 1, 12])
def test_filenames_round_trip(subject: str, version: int | None) -> None:
    name = schema_filename(subject, version)

    assert "/" not in name
    assert parse_filename(name) == (subject, version)


def test_non_schema_files_are_ignored() -> None:
    assert parse_filename("manifest.json") is None
    assert parse_filename(".avsc") is None


def test_export_is_byte_stable_and_canonical(tmp_path: Path) -> None:
    catalog = agents_catalog()
    first = export_models(catalog, topic_prefix="app", out=tmp_path / "a")
    second = export_models(catalog, topic_prefix="app", out=tmp_path / "b")

    assert [p.name for p in first] == [p.name for p in second]
    assert len(first) == len(catalog)
    assert all(p.read_bytes() == (tmp_path / "b" / p.name).read_bytes() for p in first)
    golden = Path(__file__).parents[2] / "golden" / "ProcessMessageCommand.avsc"
    exported = tmp_path / "a" / "app-ProcessMessageCommand-value.avsc"
    assert json.loads(exported.read_text()) == json.loads(golden.read_text())


def test_directory_source_versions_and_levels(tmp_path: Path) -> None:
    schema = '{"type":"record","name":"R","fields":[]}'
    write_schema(tmp_path / schema_filename("s-A-value"), schema)
    for version in (1, 3):
        write_schema(tmp_path / schema_filename("s-B-value", version), schema)
    write_schema(tmp_path / schema_filename("s-B-value"), schema)
    write_schema(tmp_path / schema_filename("s-C-value"), schema)
    (tmp_path / "manifest.json").write_text(
        json.dumps({"subjects": {"s-A-value": {"version": 7, "level": "full"}}})
    )

    source = DirectorySource(tmp_path, default_level="FORWARD")

    assert source.subjects() == ["s-A-value", "s-B-value", "s-C-value"]
    assert source.versions("s-A-value") == [7]
    assert source.versions("s-B-value") == [1, 3]
    assert source.versions("s-C-value") == [1]
    assert source.versions("missing") == []
    assert (source.level("s-A-value"), source.level("s-B-value")) == ("FULL", "FORWARD")
    assert json.loads(source.schema("s-A-value", 7)) == json.loads(schema)
    with pytest.raises(SchemaDirectoryError, match="no version 2 of s-B-value"):
        source.schema("s-B-value", 2)


def test_bad_manifest_and_missing_directory_are_named(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("[1, 2")
    with pytest.raises(SchemaDirectoryError, match="manifest.json is not a schema manifest"):
        DirectorySource(tmp_path)
    with pytest.raises(SchemaDirectoryError, match="is not a directory"):
        DirectorySource(tmp_path / "nope")
