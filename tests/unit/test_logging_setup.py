"""Structured logging: JSON lines carry the extra fields; text lines show them as key=value."""

from __future__ import annotations

import json
import logging

from clubhouse.logging_setup import JsonFormatter, TextFormatter


def record(**extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("clubhouse.test", logging.INFO, __file__, 1, "schema %s", ("ok",), None)
    rec.__dict__.update(extra)
    return rec


def test_json_lines_carry_extra_fields() -> None:
    line = JsonFormatter().format(record(subject="s-value", schema_id=3))
    data = json.loads(line)
    assert data["msg"] == "schema ok"
    assert (data["level"], data["logger"]) == ("info", "clubhouse.test")
    assert (data["subject"], data["schema_id"]) == ("s-value", 3)


def test_text_lines_append_key_values() -> None:
    line = TextFormatter().format(record(outcome="registered"))
    assert line.endswith("clubhouse.test: schema ok outcome=registered")


def test_text_lines_escape_control_characters_so_no_line_can_be_forged() -> None:
    rec = logging.LogRecord(
        "clubhouse.test", logging.INFO, __file__, 1, "refused %s", ("/x\nFAKE line",), None
    )
    rec.__dict__["path"] = "/subjects/a\r\n12:00:00 INFO  forged: admin logged in\x1b[2J"
    line = TextFormatter().format(rec)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "refused /x\\nFAKE line" in line
    assert "path=/subjects/a\\r\\n12:00:00 INFO  forged: admin logged in\\x1b[2J" in line


def test_json_lines_never_hold_a_raw_newline() -> None:
    line = JsonFormatter().format(record(path="/a\nb"))
    assert "\n" not in line
    assert json.loads(line)["path"] == "/a\nb"
