"""Runtime validation against registered schemas: the function, the CLI and strict producers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from clubhouse.agents.messages import ProcessMessageCommand
from clubhouse.cli.main import cli
from clubhouse.contracts import MessageCatalog
from clubhouse.messaging.serde import MessageSerde
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.schema_registry import ConfluentSchemaRegistry
from clubhouse.validation import (
    SchemaViolationError,
    StrictValidator,
    Violation,
    validate_against_registry,
)
from tests.integration.evolution.helpers import order, register

pytestmark = pytest.mark.integration

BAD_MESSAGE = {
    "message_id": "not-a-uuid",
    "timestamp": "yesterday",
    "message_type": "command.process_message",
    "content": 42,
    "conversation_id": 7,
    "metadata": {"k": "v"},
    "colour": "blue",
}  # agent_id is missing too

EVERY_VIOLATION = [
    Violation("message_id", "string (uuid)", "string 'not-a-uuid'"),
    Violation("timestamp", "long (timestamp-micros)", "string 'yesterday'"),
    Violation("agent_id", "string", "missing"),
    Violation("content", "string", "int 42"),
    Violation("conversation_id", "null | string", "int 7"),
    Violation("colour", "nothing (ProcessMessageCommand has no such field)", "string 'blue'"),
]


@pytest.fixture
def process_subject(registry: ConfluentSchemaRegistry, prefix: str) -> str:
    subject = subject_name(prefix, ProcessMessageCommand)
    registry.register(subject, model_schema(ProcessMessageCommand))
    return subject


def test_every_violation_is_reported(
    registry: ConfluentSchemaRegistry, process_subject: str
) -> None:
    report = validate_against_registry(BAD_MESSAGE, process_subject, registry=registry)

    assert (report.version, report.ok) == (1, False)
    assert list(report.violations) == EVERY_VIOLATION
    with pytest.raises(SchemaViolationError) as raised:
        report.raise_if_invalid()
    assert raised.value.violations == EVERY_VIOLATION
    assert "agent_id: expected string, found missing" in str(raised.value)


def test_valid_instance_and_json_form_pass(
    registry: ConfluentSchemaRegistry, process_subject: str
) -> None:
    message = ProcessMessageCommand(agent_id="a1", content="hi", metadata={"n": 1})

    as_instance = validate_against_registry(message, process_subject, registry=registry)
    as_json = validate_against_registry(
        json.loads(message.model_dump_json()), process_subject, 1, registry=registry
    )

    assert as_instance.violations == ()
    assert as_json.violations == ()


def test_validate_cli(
    session_registry_url: str, process_subject: str, prefix: str, tmp_path: Path
) -> None:
    good = tmp_path / "good.json"
    good.write_text(ProcessMessageCommand(agent_id="a", content="c").model_dump_json())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(BAD_MESSAGE))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    url = ("--url", session_registry_url)

    ok = CliRunner().invoke(
        cli, ["validate", "--subject", process_subject, "--file", str(good), *url]
    )
    fails = CliRunner().invoke(
        cli, ["validate", "--model", "ProcessMessageCommand", "--topic-prefix", prefix,
              "--file", str(bad), "--json", *url],
    )  # fmt: skip
    text = CliRunner().invoke(
        cli, ["validate", "--subject", process_subject, "--file", str(bad), *url]
    )
    unknown = CliRunner().invoke(
        cli, ["validate", "--subject", "nope-value", "--file", str(good), *url]
    )
    unparsable = CliRunner().invoke(
        cli, ["validate", "--subject", process_subject, "--file", str(broken), *url]
    )

    assert ok.exit_code == 0, ok.output
    assert f"against {process_subject} v1" in ok.stdout
    assert ok.stdout.rstrip().endswith(": valid")
    assert fails.exit_code == 1
    body = json.loads(fails.stdout)
    assert body["valid"] is False
    assert [(v["path"], v["expected"], v["found"]) for v in body["violations"]] == [
        (v.path, v.expected, v.found) for v in EVERY_VIOLATION
    ]
    assert text.exit_code == 1
    assert "6 violation(s)" in text.stdout
    assert "  conversation_id: expected null | string, found int 7" in text.stdout
    assert unknown.exit_code == 2
    assert "no registered schema" in unknown.output
    assert unparsable.exit_code == 2
    assert "not valid JSON" in unparsable.output


def test_strict_producer_refuses_a_message_the_registered_schema_rejects(
    registry: ConfluentSchemaRegistry, prefix: str
) -> None:
    # The contract moved on (qty became a string, under NONE) while this producer still has v1.
    subject = subject_name(prefix, order("order_v1"))
    registry.set_compatibility("NONE", subject)
    register(registry, prefix, "order_v1", "order_retyped")
    v1 = order("order_v1")
    catalog = MessageCatalog([v1])
    lenient = MessageSerde(registry, catalog, prefix)
    strict = MessageSerde(
        registry, catalog, prefix, before_send=StrictValidator(registry, topic_prefix=prefix)
    )
    pinned = MessageSerde(
        registry, catalog, prefix,
        before_send=StrictValidator(registry, topic_prefix=prefix, version=1),
    )  # fmt: skip
    for serde in (lenient, strict, pinned):
        serde.prepare()
    message = v1(sku="A-1", qty=3)

    assert lenient.serialize(message)  # without strict mode it goes out as v1
    assert pinned.serialize(message)  # and it does conform to v1
    with pytest.raises(SchemaViolationError) as raised:
        strict.serialize(message)
    assert (raised.value.subject, raised.value.version) == (subject, 2)
    assert raised.value.violations == [Violation("qty", "string", "int 3")]

    # Every violation of one instance, not just the first.
    broken = v1.model_construct(sku=None, qty="three")
    with pytest.raises(SchemaViolationError) as pinned_raised:
        pinned.serialize(broken)
    assert pinned_raised.value.violations == [
        Violation("sku", "string", "null"),
        Violation("qty", "long", "string 'three'"),
    ]
