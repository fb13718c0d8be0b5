"""Render check, diff, plan and validation results as text, JSON or GitHub annotations.

Renderers are pure: results in, text (or JSON-ready dicts) out. The CLI decides where it goes.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from clubhouse.evolution.check import CheckReport, ModelCheck
from clubhouse.evolution.compare import Reason
from clubhouse.evolution.diff import ModelDiff
from clubhouse.evolution.plan import PlannedStep
from clubhouse.validation.registry import ValidationReport

Origin = tuple[str, int]
"""Where a model is defined: a file path (relative to the working directory) and a line."""


def model_origin(model: type, *, cwd: Path | None = None) -> Origin | None:
    """The file and line of ``model``'s class statement, or None when it has no source."""
    try:
        file = inspect.getsourcefile(model)
        _, line = inspect.getsourcelines(model)
    except (OSError, TypeError):  # built dynamically (create_model) or from a .pyc only
        return None
    if file is None:
        return None
    base = cwd or Path.cwd()
    try:
        shown = str(Path(file).resolve().relative_to(base.resolve()))
    except ValueError:
        shown = file
    return shown.replace(os.sep, "/"), max(line, 1)


# --- check --------------------------------------------------------------------------------------


def _heading(result: ModelCheck) -> str:
    if result.status == "new":
        return f"{result.model} ({result.subject}): new subject, nothing to compare"
    versions = ", ".join(f"v{v}" for v in result.compared) or "nothing (level NONE)"
    verdict = f"{result.status} at {result.level} against {versions}"
    return f"{result.model} ({result.subject}): {verdict}"


def check_text(report: CheckReport) -> str:
    """One heading per model, then one line per reason for incompatible ones."""
    lines: list[str] = []
    for result in report.results:
        lines.append(_heading(result))
        lines += [f"  {reason.explain()}" for reason in result.reasons]
    if report.orphans:
        lines.append("Not checked (registered, but no local model): " + ", ".join(report.orphans))
    lines.append(_summary(report))
    return "\n".join(lines)


def _summary(report: CheckReport) -> str:
    counts = {s: sum(r.status == s for r in report.results) for s in ("incompatible", "new")}
    compatible = len(report.results) - counts["incompatible"]
    verdict = "FAILED" if counts["incompatible"] else "OK"
    return (
        f"{verdict}: {counts['incompatible']} incompatible, {compatible} compatible "
        f"({counts['new']} new) against {report.against}"
    )


def _reason_json(reason: Reason) -> dict[str, Any]:
    return {
        "location": reason.location,
        "path": reason.path,
        "rule": reason.rule,
        "detail": reason.detail,
        "version": reason.version,
        "direction": reason.direction,
        "text": str(reason),
    }


def check_json(report: CheckReport) -> dict[str, Any]:
    """The report as a JSON-ready dict."""
    return {
        "compatible": report.compatible,
        "against": report.against,
        "models": [
            {
                "model": r.model,
                "subject": r.subject,
                "status": r.status,
                "level": r.level,
                "compared_versions": list(r.compared),
                "reasons": [_reason_json(reason) for reason in r.reasons],
                "messages": list(r.messages),
            }
            for r in report.results
        ],
        "orphan_subjects": list(report.orphans),
    }


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(
    message: str, *, title: str, origin: Origin | None = None, level: str = "error"
) -> str:
    """One GitHub Actions workflow command, e.g. ``::error file=a.py,line=3,title=T::msg``."""
    props = [] if origin is None else [f"file={_escape_property(origin[0])}", f"line={origin[1]}"]
    props.append(f"title={_escape_property(title)}")
    return f"::{level} {','.join(props)}::{_escape_data(message)}"


def check_github(report: CheckReport, origins: Mapping[str, Origin] | None = None) -> str:
    """An ``::error`` annotation per reason, at the model's class when its source is known."""
    where = origins or {}
    lines = [
        github_annotation(
            reason.explain(),
            title=f"Incompatible schema: {r.model} ({r.level})",
            origin=where.get(r.model),
        )
        for r in report.results
        for reason in r.reasons
    ]
    if report.orphans:
        lines.append(
            github_annotation(
                "registered subjects with no local model: " + ", ".join(report.orphans),
                title="Subjects not checked",
                level="warning",
            )
        )
    lines.append(_summary(report))
    return "\n".join(lines)


# --- diff ---------------------------------------------------------------------------------------


def diff_text(diffs: Iterable[ModelDiff]) -> str:
    """Each model's field changes, then its verdict under every level."""
    blocks: list[str] = []
    for d in diffs:
        if d.version is None:
            blocks.append(f"{d.model} ({d.subject}): not registered; everything is new")
            continue
        lines = [f"{d.model} ({d.subject}): local model vs v{d.version}"]
        lines += [f"  {change}" for change in d.changes] or ["  no field changes"]
        verdicts = ", ".join(
            f"{v.level}{'*' if v.level == d.level else ''} "
            f"{'ok' if v.compatible else 'INCOMPATIBLE'}"
            for v in d.verdicts
        )
        lines.append(f"  verdicts: {verdicts}  (* = the subject's level)")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def diff_json(diffs: Iterable[ModelDiff]) -> list[dict[str, Any]]:
    """The diffs as JSON-ready dicts."""
    return [
        {
            "model": d.model,
            "subject": d.subject,
            "against_version": d.version,
            "level": d.level,
            "changes": [
                {"path": c.path, "kind": c.kind, "old": c.old, "new": c.new} for c in d.changes
            ],
            "verdicts": {
                v.level: {
                    "compatible": v.compatible,
                    "reasons": [_reason_json(r) for r in v.reasons],
                }
                for v in d.verdicts
            },
        }
        for d in diffs
    ]


# --- plan ---------------------------------------------------------------------------------------


def plan_text(steps: Iterable[PlannedStep]) -> str:
    """One line per model, with the registry's reasons under refusals."""
    lines: list[str] = []
    for step in steps:
        lines.append(step.describe())
        lines += [f"  {m}" for m in step.messages]
    return "\n".join(lines)


def plan_json(steps: Iterable[PlannedStep]) -> list[dict[str, Any]]:
    """The plan as JSON-ready dicts."""
    return [
        {
            "model": s.model,
            "subject": s.subject,
            "action": s.action,
            "level": s.level,
            "version": s.version,
            "schema_id": s.schema_id,
            "messages": list(s.messages),
        }
        for s in steps
    ]


# --- validation ---------------------------------------------------------------------------------


def validation_text(report: ValidationReport, *, label: str = "message") -> str:
    """``valid`` or one line per violation: path, expected, found."""
    head = f"{label} against {report.subject} v{report.version} (id {report.schema_id})"
    if report.ok:
        return f"{head}: valid"
    lines = [f"{head}: {len(report.violations)} violation(s)"]
    lines += [f"  {v}" for v in report.violations]
    return "\n".join(lines)


def validation_json(report: ValidationReport) -> dict[str, Any]:
    """The validation report as a JSON-ready dict."""
    return {
        "subject": report.subject,
        "version": report.version,
        "schema_id": report.schema_id,
        "valid": report.ok,
        "violations": [
            {"path": v.path, "expected": v.expected, "found": v.found} for v in report.violations
        ],
    }
