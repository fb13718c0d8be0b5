"""The Maven resolver: coordinates, missing tools and the cache marker (no network needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clubhouse.devstack.maven import (
    Artifact,
    JavaToolMissingError,
    default_cache_root,
    require_tool,
    resolve_jars,
)


def test_artifact_parse_round_trips() -> None:
    artifact = Artifact.parse("org.apache.avro:avro:1.12.1")
    assert (artifact.group, artifact.artifact, artifact.version) == (
        "org.apache.avro",
        "avro",
        "1.12.1",
    )
    assert str(artifact) == "org.apache.avro:avro:1.12.1"


@pytest.mark.parametrize("bad", ["avro", "org.apache.avro:avro", "a::1", "a:b:c:d"])
def test_artifact_parse_refuses_other_shapes(bad: str) -> None:
    with pytest.raises(ValueError, match="group:artifact:version"):
        Artifact.parse(bad)


def test_cache_root_follows_the_environment(tmp_path: Path) -> None:
    assert default_cache_root({"CLUBHOUSE_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert default_cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "clubhouse"


def test_missing_tool_names_itself_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(JavaToolMissingError, match="mvn was not found on PATH") as info:
        require_tool("mvn", "resolving Kafka")
    assert "resolving Kafka" in str(info.value)
    assert "apt-get install" in str(info.value)


def test_resolve_without_maven_fails_with_the_tool_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(JavaToolMissingError, match="mvn"):
        resolve_jars("x-1", ["g:a:1"], cache_root=tmp_path)


def test_a_matching_marker_reuses_the_cache_without_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Resolve-once semantics: the second call must not need mvn at all.
    import hashlib

    lib = tmp_path / "x-1" / "lib"
    lib.mkdir(parents=True)
    (lib / "a-1.jar").write_bytes(b"")
    fingerprint = hashlib.sha256(b"g:a:1").hexdigest()
    (tmp_path / "x-1" / ".resolved").write_text(fingerprint + "\n")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert resolve_jars("x-1", ["g:a:1"], cache_root=tmp_path) == [lib / "a-1.jar"]
    with pytest.raises(JavaToolMissingError):
        resolve_jars("x-1", ["g:a:2"], cache_root=tmp_path)
