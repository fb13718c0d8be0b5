"""The oracle's classes are compiled once per source and JDK, then reused from the cache."""

from __future__ import annotations

import shutil

import pytest

from clubhouse.devstack.maven import compiled_classes, default_cache_root
from tests.java.avro_oracle import SOURCE, AvroOracle, avro_jars

pytestmark = pytest.mark.integration


def test_a_started_oracle_leaves_its_classes_for_the_next_session(
    avro_oracle: AvroOracle,  # started, so javac, the jars and the cached classes all exist
) -> None:
    javac = shutil.which("javac")
    assert javac is not None
    classes = compiled_classes(javac, SOURCE, avro_jars(), default_cache_root())
    compiled = classes / "AvroOracle.class"
    stamp = compiled.stat().st_mtime_ns
    assert compiled_classes(javac, SOURCE, avro_jars(), default_cache_root()) == classes
    assert compiled.stat().st_mtime_ns == stamp
