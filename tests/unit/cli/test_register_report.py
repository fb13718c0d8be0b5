"""The registration report as ``register`` prints it: each count named, never one vague total."""

from __future__ import annotations

from clubhouse.cli.register_cmd import render_report
from clubhouse.messaging.schema_registrator import ModelRegistration, Outcome, RegistrationReport
from clubhouse.services.schema_registry import RegistrySettings

SETTINGS = RegistrySettings(urls=["http://user:secret@sr:8081"])


def result(name: str, outcome: Outcome) -> ModelRegistration:
    return ModelRegistration(name, f"clubhouse-{name}-value", outcome, is_base=False)


def test_nothing_new_reads_as_already_registered_not_registered() -> None:
    report = RegistrationReport([result("A", Outcome.ALREADY_REGISTERED),
                                 result("B", Outcome.ALREADY_REGISTERED)])  # fmt: skip
    summary = render_report(report, SETTINGS).splitlines()[-1]
    assert summary.endswith(": 0 registered, 2 already-registered, 0 failed")
    assert "secret" not in summary
    data = report.to_dict()
    assert (data["registered"], data["already_registered"], data["failed"]) == (0, 2, 0)
    assert "registered_count" not in data


def test_each_subject_is_printed_once() -> None:
    report = RegistrationReport([result("A", Outcome.REGISTERED), result("B", Outcome.FAILED)])
    text = render_report(report, SETTINGS)
    assert text.count("clubhouse-A-value") == 1
    assert text.splitlines()[-1].endswith(": 1 registered, 0 already-registered, 1 failed")
