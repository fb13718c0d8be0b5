"""SchemaRegistryProtocol's contract, checked on the test fake and on the real client against
a real registry process: the fake may only promise what the registry does."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from clubhouse.services.kafka_protocol import SchemaRegistryProtocol
from clubhouse.services.registry_errors import NotFoundError
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings
from tests.fakes.registry import FakeRegistry

pytestmark = pytest.mark.integration

V1 = json.dumps({"type": "record", "name": "Thing", "fields": [{"name": "a", "type": "long"}]})
V2 = json.dumps({"type": "record", "name": "Thing", "fields": [
    {"name": "a", "type": "long"}, {"name": "b", "type": "string", "default": ""}]})  # fmt: skip
BREAKING = json.dumps({"type": "record", "name": "Thing", "fields": [
    {"name": "c", "type": "string"}]})  # fmt: skip


@pytest.fixture(params=["fake", "real"])
def registry(request: pytest.FixtureRequest) -> Iterator[SchemaRegistryProtocol]:
    if request.param == "fake":
        yield FakeRegistry()
        return
    url = request.getfixturevalue("registry_url")
    with ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[url])) as real:
        yield real


def test_registering_is_idempotent_and_ids_are_global(registry: SchemaRegistryProtocol) -> None:
    first = registry.register("c-Thing-value", V1)
    again = registry.register("c-Thing-value", V1)
    elsewhere = registry.register("c-Other-value", V1)
    # Registries that answer a register with the id alone give version 0: both are allowed.
    assert again.schema_id == first.schema_id and first.version in (0, 1)
    assert elsewhere.schema_id == first.schema_id
    second = registry.register("c-Thing-value", V2)
    assert second.version in (0, 2) and second.schema_id != first.schema_id
    assert registry.get_versions("c-Thing-value") == [1, 2]
    assert json.loads(registry.get_schema(first.schema_id)) == json.loads(V1)


def test_reads_of_what_is_not_there(registry: SchemaRegistryProtocol) -> None:
    assert registry.lookup("c-None-value", V1) is None
    assert registry.get_latest("c-None-value") is None
    assert registry.get_versions("c-None-value") == []
    registry.register("c-Thing-value", V1)
    assert registry.lookup("c-Thing-value", V2) is None
    with pytest.raises(NotFoundError):
        registry.get_version("c-Thing-value", 7)


def test_lookups_and_listings_agree(registry: SchemaRegistryProtocol) -> None:
    registry.register("c-A-value", V1)
    registry.register("c-A-value", V2)
    registry.register("c-B-value", V1)
    found = registry.lookup("c-A-value", V1)
    assert found is not None and found.version == 1
    latest = registry.get_latest("c-A-value")
    assert latest is not None and (latest.version, json.loads(latest.schema)) == (2, json.loads(V2))
    assert registry.get_version("c-A-value", 1).schema_id == found.schema_id
    assert {"c-A-value", "c-B-value"} <= set(registry.get_subjects())
    latest_all = {r.subject: r.version for r in registry.get_latest_schemas("c-")}
    assert latest_all == {"c-A-value": 2, "c-B-value": 1}


def test_compatibility_levels_are_read_and_set(registry: SchemaRegistryProtocol) -> None:
    registry.register("c-Thing-value", V1)
    assert registry.get_compatibility() == "BACKWARD"
    registry.set_compatibility("FULL", "c-Thing-value")
    assert registry.get_compatibility("c-Thing-value") == "FULL"
    assert registry.get_compatibility() == "BACKWARD"
    assert registry.test_compatibility("c-Thing-value", V2).is_compatible


def test_an_incompatible_candidate_is_refused_with_reasons(
    registry: SchemaRegistryProtocol,
) -> None:
    registry.register("c-Thing-value", V1)
    if isinstance(registry, FakeRegistry):  # the fake is told; the registry works it out
        registry.incompatible["c-Thing-value"] = ("reader field c has no default",)
    verdict = registry.test_compatibility("c-Thing-value", BREAKING)
    assert not verdict.is_compatible
    assert verdict.messages
