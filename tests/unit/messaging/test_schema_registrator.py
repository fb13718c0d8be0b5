"""SchemaRegistrator on a fake registry and on confluent-kafka's mock registry client."""

from __future__ import annotations

import json
import logging

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from pydantic import ConfigDict

from clubhouse.agents.messages import agents_catalog
from clubhouse.contracts import Command
from clubhouse.messaging.schema_registrator import (
    Outcome,
    SchemaRegistrationError,
    SchemaRegistrator,
)
from clubhouse.messaging.subjects import model_schema
from clubhouse.services.kafka_protocol import RegisteredSchema, SchemaRegistryProtocol
from clubhouse.services.registry_errors import RegistryUnreachableError
from clubhouse.services.schema_registry import ConfluentSchemaRegistry
from tests.fakes.registry import Boom, FakeRegistry

BASES = ["BaseMessage", "Command", "Response", "Event"]


def test_fake_satisfies_the_protocol() -> None:
    assert isinstance(FakeRegistry(), SchemaRegistryProtocol)


def test_bases_are_registered_first_and_alone() -> None:
    fake = FakeRegistry()
    report = SchemaRegistrator(fake, agents_catalog(), max_workers=4).register_all_schemas()
    registers = [s for op, s in fake.calls if op == "register"]
    assert registers[:4] == [f"clubhouse-{b}-value" for b in BASES]
    assert fake.id_of(model_schema(agents_catalog().get("BaseMessage"))) == 1
    assert report.registered_count == 14
    assert [r.model for r in report.results][:4] == BASES
    assert all(r.outcome is Outcome.REGISTERED and r.version == 1 for r in report.results)


def test_second_run_is_idempotent() -> None:
    fake = FakeRegistry()
    SchemaRegistrator(fake).register_all_schemas()
    fake.calls.clear()
    report = SchemaRegistrator(fake).register_all_schemas()
    assert {r.outcome for r in report.results} == {Outcome.ALREADY_REGISTERED}
    assert report.registered_count == 14
    assert not [c for c in fake.calls if c[0] == "register"]
    assert all(len(v) == 1 for v in fake.versions.values())
    # The one listing of latest schemas answered for every model: no lookups at all.
    assert fake.calls == [("get_latest_schemas", "clubhouse-")]


def test_a_changed_model_is_looked_up_then_registered() -> None:
    fake = FakeRegistry()
    SchemaRegistrator(fake).register_all_schemas()
    subject = "clubhouse-AgentThinkingEvent-value"
    # The latest is something else.
    fake.versions[subject].append(RegisteredSchema(subject, 2, 999, '{"type": "string"}'))
    fake.calls.clear()
    report = SchemaRegistrator(fake).register_all_schemas()
    assert report.registered_count == 14
    assert [c for c in fake.calls if c[0] == "lookup"] == [("lookup", subject)]
    [result] = [r for r in report.results if r.subject == subject]
    assert (result.outcome, result.version) == (Outcome.ALREADY_REGISTERED, 1)


def test_one_failure_does_not_stop_the_rest() -> None:
    fake = FakeRegistry()
    fake.fail["clubhouse-DeleteAgentCommand-value"] = Boom("disk full")
    report = SchemaRegistrator(fake).register_all_schemas()
    assert report.registered_count == 13
    [failed] = report.failed
    assert failed.subject == "clubhouse-DeleteAgentCommand-value"
    assert failed.error == "disk full"
    assert failed.error_type == "Boom"
    assert not report.ok
    assert report.to_dict()["failed_count"] == 1
    json.dumps(report.to_dict())


def test_raise_on_failure_wraps_the_first_failure() -> None:
    fake = FakeRegistry()
    fake.fail["clubhouse-ErrorResponse-value"] = Boom("nope")
    registrator = SchemaRegistrator(fake, raise_on_failure=True)
    with pytest.raises(SchemaRegistrationError) as err:
        registrator.register_all_schemas()
    assert err.value.subject == "clubhouse-ErrorResponse-value"
    assert "1 of 14 schemas failed" in err.value.reason
    assert "nope" in str(err.value)


def test_unreachable_registry_stops_early_and_marks_the_rest() -> None:
    fake = FakeRegistry()
    fake.fail["clubhouse-BaseMessage-value"] = RegistryUnreachableError("connection refused")
    report = SchemaRegistrator(fake).register_all_schemas()
    assert report.fatal_type == "RegistryUnreachableError"
    assert report.registered_count == 0
    assert len([c for c in fake.calls if c[0] == "register"]) == 1
    assert report.results[1].error == "not attempted: connection refused"


def test_conversion_errors_are_reported_per_model() -> None:
    class Weird(Command):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        value: complex

    catalog = agents_catalog()
    catalog.add(Weird)
    report = SchemaRegistrator(FakeRegistry(), catalog).register_all_schemas()
    [failed] = report.failed
    assert failed.model == "Weird"
    assert failed.error_type == "SchemaConversionError"
    assert "Weird.value: unsupported type complex" in (failed.error or "")
    assert report.registered_count == 14


def test_compatibility_precheck_reports_without_registering() -> None:
    fake = FakeRegistry()
    fake.register("clubhouse-ProcessMessageCommand-value", '"an older schema"')
    fake.incompatible["clubhouse-ProcessMessageCommand-value"] = ("reader field missing default",)
    fake.calls.clear()
    report = SchemaRegistrator(fake, check_compatibility=True).register_all_schemas()
    [failed] = report.failed
    assert failed.messages == ("reader field missing default",)
    assert "incompatible" in (failed.error or "")
    assert ("register", "clubhouse-ProcessMessageCommand-value") not in fake.calls


def test_new_subjects_skip_the_lookup_and_the_precheck() -> None:
    fake = FakeRegistry()
    SchemaRegistrator(fake, check_compatibility=True).register_all_schemas()
    # Nothing was there: no lookup and no compatibility test before registering.
    assert {op for op, _ in fake.calls} == {"get_latest_schemas", "register"}
    assert len([c for c in fake.calls if c[0] == "register"]) == 14


def test_dry_run_writes_nothing() -> None:
    fake = FakeRegistry()
    report = SchemaRegistrator(fake, dry_run=True).register_all_schemas()
    assert {r.outcome for r in report.results} == {Outcome.WOULD_REGISTER}
    assert report.registered_count == 0
    assert report.ok
    assert not fake.versions


def test_topic_prefix_names_subjects() -> None:
    fake = FakeRegistry()
    SchemaRegistrator(fake, topic_prefix="prod").register_all_schemas()
    assert "prod-CreateAgentCommand-value" in fake.versions


def test_logging_has_one_debug_line_per_model_and_errors_with_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeRegistry()
    fake.fail["clubhouse-AgentThinkingEvent-value"] = Boom("quota exceeded")
    with caplog.at_level(logging.DEBUG, logger="clubhouse.messaging.schema_registrator"):
        SchemaRegistrator(fake).register_all_schemas()
    per_model = [r for r in caplog.records if getattr(r, "outcome", None) == "registered"]
    assert len(per_model) == 13
    # The CLI prints each outcome in its table; at INFO only the summary, with named counts.
    [summary] = [r for r in caplog.records if r.levelno == logging.INFO]
    assert (summary.registered, summary.already_registered, summary.failed) == (13, 0, 1)  # type: ignore[attr-defined]
    assert not [r for r in per_model if r.levelno > logging.DEBUG]
    assert {r.subject for r in per_model} >= {"clubhouse-BaseMessage-value"}  # type: ignore[attr-defined]
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.subject == "clubhouse-AgentThinkingEvent-value"  # type: ignore[attr-defined]
    assert error.cause == "quota exceeded"  # type: ignore[attr-defined]


def test_against_confluents_mock_registry_client() -> None:
    client = SchemaRegistryClient.new_client({"url": "mock://registrator"})
    registry = ConfluentSchemaRegistry(client, display_url="mock://registrator")
    first = SchemaRegistrator(registry).register_all_schemas()
    assert first.registered_count == 14
    assert {r.outcome for r in first.results} == {Outcome.REGISTERED}
    second = SchemaRegistrator(registry).register_all_schemas()
    assert {r.outcome for r in second.results} == {Outcome.ALREADY_REGISTERED}
    assert [r.schema_id for r in first.results] == [r.schema_id for r in second.results]
    assert client.get_versions("clubhouse-CreateAgentCommand-value") == [1]


def test_user_models_register_after_builtin_bases() -> None:
    catalog = agents_catalog()
    catalog.add_module("tests.unit.contracts.usermods.orders")
    fake = FakeRegistry()
    report = SchemaRegistrator(fake, catalog).register_all_schemas()
    assert report.registered_count == 16
    assert "clubhouse-PlaceOrderCommand-value" in fake.versions


def test_invalid_worker_count_is_refused() -> None:
    with pytest.raises(ValueError, match="max_workers"):
        SchemaRegistrator(FakeRegistry(), max_workers=0)
