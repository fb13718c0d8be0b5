"""Without a JDK the Java Avro oracle skips with one reason, and fails where CI requires it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.java.avro_oracle import OracleUnavailableError, oracle_or_skip, start_oracle


@pytest.fixture
def no_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("PATH", str(tmp_path))
    return tmp_path


def test_a_missing_javac_is_named(no_java: Path) -> None:
    with pytest.raises(OracleUnavailableError, match="javac was not found on PATH"):
        start_oracle(no_java)


def test_without_java_the_oracle_tests_skip(no_java: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="Java Avro oracle unavailable: javac"):
        oracle_or_skip({}, no_java)


def test_with_java_required_the_oracle_tests_fail(no_java: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="CLUBHOUSE_REQUIRE_KAFKA=1 requires it"):
        oracle_or_skip({"CLUBHOUSE_REQUIRE_KAFKA": "1"}, no_java)
