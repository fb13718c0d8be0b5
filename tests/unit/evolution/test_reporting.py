"""Renderers: GitHub annotation escaping, text summaries, JSON shapes."""

from __future__ import annotations

from clubhouse.evolution import CheckReport, ModelCheck, Reason
from clubhouse.evolution.reporting import (
    check_github,
    check_json,
    check_text,
    github_annotation,
    model_origin,
)

REASON = Reason("Order", "qty", "type mismatch", "reader type: string ...", 1, "backward")
BAD = ModelCheck("Order", "app-Order-value", "incompatible", "FULL", (1,), (REASON,), ("m",))
NEW = ModelCheck("Fresh", "app-Fresh-value", "new", "BACKWARD", (), (), ())
REPORT = CheckReport("http://registry", (BAD, NEW), ("app-Gone-value",))


def test_annotation_escapes_data_and_properties() -> None:
    line = github_annotation("50% done\nnext", title="a:b,c", origin=("src/x,y.py", 3))

    assert line == "::error file=src/x%2Cy.py,line=3,title=a%3Ab%2Cc::50%25 done%0Anext"


def test_github_report_has_one_error_per_reason_and_a_summary() -> None:
    lines = check_github(REPORT, {"Order": ("models.py", 7)}).splitlines()

    assert lines[0] == (
        "::error file=models.py,line=7,title=Incompatible schema%3A Order (FULL)::"
        "Order.qty: type mismatch (new schema cannot read v1 data; reader type: string ...)"
    )
    assert lines[1].startswith("::warning title=Subjects not checked::")
    assert lines[2] == "FAILED: 1 incompatible, 1 compatible (1 new) against http://registry"


def test_text_and_json() -> None:
    text = check_text(REPORT).splitlines()

    assert text[0] == "Order (app-Order-value): incompatible at FULL against v1"
    assert text[1].startswith("  Order.qty: type mismatch (")
    assert text[2] == "Fresh (app-Fresh-value): new subject, nothing to compare"
    body = check_json(REPORT)
    assert body["compatible"] is False
    assert body["models"][0]["reasons"][0]["text"] == "Order.qty: type mismatch"
    assert body["orphan_subjects"] == ["app-Gone-value"]


def test_model_origin_points_at_the_class() -> None:
    from clubhouse.agents.messages import CreateAgentCommand

    origin = model_origin(CreateAgentCommand)

    assert origin is not None
    assert origin[0].endswith("src/clubhouse/agents/messages.py")
    assert origin[1] > 1
