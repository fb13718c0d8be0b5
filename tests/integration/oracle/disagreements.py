"""Where Clubhouse and Java Avro disagree over a corpus: every case named, one failure for all.

A corpus test checks hundreds of cases in one pytest item. Stopping at the first disagreement
would hide how many there are and of which kinds, so ``Disagreements`` collects each case's
name and what differed, and ``check`` fails once with one entry per case: the first
``DETAILED`` in full, the rest by name only, so that a systematic break stays readable.
"""

from __future__ import annotations

import textwrap

import pytest

DETAILED = 20


class Disagreements:
    """The cases of one corpus where Clubhouse's answer is not Java's."""

    def __init__(self, corpus: str) -> None:
        self.corpus = corpus
        self.found: list[tuple[str, str]] = []

    def add(self, case: str, detail: str) -> None:
        """Record that ``case`` disagrees; ``detail`` says how (it may span lines)."""
        self.found.append((case, detail))

    def report(self, checked: int) -> str:
        """The failure message: how many of ``checked`` cases disagree, then each of them."""
        lines = [f"{len(self.found)} of {checked} {self.corpus} disagree with Java Avro:"]
        for case, detail in self.found[:DETAILED]:
            lines.append(f"- {case}")
            lines.append(textwrap.indent(detail, "    "))
        if len(self.found) > DETAILED:
            lines.append(f"and {len(self.found) - DETAILED} more, by name:")
            lines += [f"- {case}" for case, _ in self.found[DETAILED:]]
        return "\n".join(lines)

    def check(self, checked: int) -> None:
        """Fail naming every disagreement; also fail if no case was checked at all."""
        if checked == 0:
            pytest.fail(f"no {self.corpus} were checked against Java Avro", pytrace=False)
        if self.found:
            pytest.fail(self.report(checked), pytrace=False)
