"""A corpus test's failure names every disagreeing case, and a corpus of none is a failure."""

from __future__ import annotations

import pytest

from tests.integration.oracle.disagreements import DETAILED, Disagreements


def test_no_disagreement_passes() -> None:
    found = Disagreements("pairs")
    found.check(3)
    assert found.found == []


def test_each_case_is_named_with_its_detail_indented() -> None:
    found = Disagreements("pairs")
    found.add("seed 4, new reads old", "ours True, Java False\nreader: {}")
    found.add("seed 9, old reads new", "Java refused the pair")
    with pytest.raises(pytest.fail.Exception) as failure:
        found.check(800)
    assert str(failure.value) == (
        "2 of 800 pairs disagree with Java Avro:\n"
        "- seed 4, new reads old\n"
        "    ours True, Java False\n"
        "    reader: {}\n"
        "- seed 9, old reads new\n"
        "    Java refused the pair"
    )


def test_past_the_detailed_ones_the_rest_are_named_only() -> None:
    found = Disagreements("pairs")
    for n in range(DETAILED + 2):
        found.add(f"case {n}", f"detail {n}")
    report = found.report(100)
    assert report.startswith(f"{DETAILED + 2} of 100 pairs disagree")
    assert f"detail {DETAILED - 1}" in report
    assert f"detail {DETAILED}" not in report
    assert report.endswith(f"and 2 more, by name:\n- case {DETAILED}\n- case {DETAILED + 1}")


def test_checking_no_cases_fails() -> None:
    with pytest.raises(pytest.fail.Exception, match="no pairs were checked"):
        Disagreements("pairs").check(0)
