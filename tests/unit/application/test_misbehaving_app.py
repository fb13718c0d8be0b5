"""Whatever a handler does wrong answers its own command and changes nothing else.

Each misbehaviour of ``tests/apps/misbehaving.py`` is sent between good commands on the same
key, through the service's own processor (``TestApp``): the bad command is answered once,
its state changes and outputs are dropped, and the good commands around it keep counting.
"""

from __future__ import annotations

import logging

import pytest

from clubhouse.contracts import ErrorResponse, Response
from clubhouse.logging_setup import TextFormatter
from clubhouse.testing import TestApp
from tests.apps import misbehaving
from tests.apps.misbehaving import Count, Counted, Misbehave, NeverDeclaredEvent


def _around(t: TestApp, bad: Misbehave) -> Response | None:
    """Send ``bad`` between two good commands on its key; the good ones count on."""
    before = t.send(Count(key=bad.key))
    assert isinstance(before, Counted)
    reply = t.send(bad)
    after = t.send(Count(key=bad.key))
    assert isinstance(after, Counted), after
    assert after.n == before.n + 1, "the bad command must not change the key's state"
    return reply


@pytest.fixture
def t() -> TestApp:
    return TestApp(misbehaving.app)


@pytest.mark.parametrize(
    ("how", "error_type", "says"),
    [
        ("wrong_types", "invalid_output", "Counted"),
        ("state_list", "handler_error", "list"),
        ("state_string", "handler_error", "str"),
        ("state_deep", "handler_error", "deep"),
        ("state_not_json", "handler_error", "JSON"),
        ("exit", "handler_error", "SystemExit"),
        ("interrupt", "handler_error", "KeyboardInterrupt"),
    ],
)
def test_a_misbehaving_handler_answers_only_its_own_command(
    t: TestApp, how: str, error_type: str, says: str
) -> None:
    bad = Misbehave(key=f"k-{how}", how=how)
    reply = _around(t, bad)
    assert isinstance(reply, ErrorResponse), reply
    assert (reply.error_type, reply.in_response_to) == (error_type, bad.message_id)
    assert says in reply.error_message
    assert t.state(bad.key) == {"n": 2}
    assert not any(isinstance(m, NeverDeclaredEvent) for m in t.published)


def test_models_defined_in_the_apps_module_are_registered_without_being_declared(
    t: TestApp,
) -> None:
    names = {m.__name__ for m in misbehaving.app.catalog()}
    assert {"NeverDeclaredReply", "NeverDeclaredEvent"} <= names
    reply = t.send(Misbehave(key="plain", how="unannotated_reply"))
    assert isinstance(reply, misbehaving.NeverDeclaredReply)
    t.send(Misbehave(key="plain", how="undeclared_event"))
    assert [e.note for e in t.events if isinstance(e, NeverDeclaredEvent)] == ["not in emits="]


def test_a_model_first_seen_at_run_time_is_registered_then_with_a_warning(
    t: TestApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        reply = t.send(Misbehave(key="late", how="made_at_run_time"))
    assert type(reply).__name__ == "MadeAtRunTime"
    assert any(getattr(r, "model", None) == "MadeAtRunTime" for r in caplog.records)
    subjects = t.registry.get_subjects()
    assert "misbehaving-MadeAtRunTime-value" in subjects
    # The handler makes a new class each time: another model of the same name is refused,
    # since one name is one subject.
    again = t.send(Misbehave(key="late", how="made_at_run_time"))
    assert isinstance(again, ErrorResponse) and again.error_type == "undeclared_output"
    assert "MadeAtRunTime" in again.error_message and "app.models" in again.error_message


def test_exception_text_cannot_forge_a_log_line(
    t: TestApp, caplog: pytest.LogCaptureFixture
) -> None:
    bad = Misbehave(
        key="forge", how="raise_text",
        text="boom\n12:00:00 INFO  clubhouse: all good message_id=x key=y\x1b[2J",
    )  # fmt: skip
    with caplog.at_level(logging.ERROR, logger="clubhouse.handlers"):
        reply = _around(t, bad)
    assert isinstance(reply, ErrorResponse) and reply.error_type == "handler_error"
    (record,) = [r for r in caplog.records if r.getMessage() == "handler failed"]
    text = TextFormatter().format(record)
    assert "\x1b" not in text
    assert not any(line.startswith("12:00:00") for line in text.splitlines()), text
    assert "boom\\n12:00:00 INFO" in text
