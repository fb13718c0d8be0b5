"""The Java Avro oracle for the differential tests: one JVM for the whole session.

Without java, javac or Maven the tests skip with one reason; with ``CLUBHOUSE_REQUIRE_KAFKA=1``
(set in CI) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.java.avro_oracle import AvroOracle, oracle_or_skip


@pytest.fixture(scope="session")
def avro_oracle() -> Iterator[AvroOracle]:
    oracle = oracle_or_skip(os.environ)
    yield oracle
    oracle.close()
