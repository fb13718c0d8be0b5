"""The compatibility gate against a real registry, and the same verdicts offline from files."""

from __future__ import annotations

from pathlib import Path

import pytest

from clubhouse.evolution import (
    DirectorySource,
    ModelCheck,
    RegistrySource,
    check_model,
    download_schemas,
    export_models,
)
from clubhouse.messaging.subjects import model_schema
from clubhouse.services.kafka_protocol import CompatibilityLevel
from clubhouse.services.registry_errors import IncompatibleSchemaError
from clubhouse.services.schema_registry import ConfluentSchemaRegistry
from tests.integration.evolution.helpers import order, register

pytestmark = pytest.mark.integration

MISSING_SKU = "Order.sku: reader field missing default value"
QTY_TYPE = "Order.qty: type mismatch"
MISSING_PRIORITY = "Order.priority: reader field missing default value"

# Avro's rules, cell by cell: removing a field only breaks readers that still expect it
# (FORWARD), adding one without a default only breaks the new reader of old data (BACKWARD).
MATRIX: list[tuple[str, CompatibilityLevel, str | None]] = [
    ("order_removed", "BACKWARD", None),
    ("order_removed", "FORWARD", MISSING_SKU),
    ("order_removed", "FULL", MISSING_SKU),
    ("order_retyped", "BACKWARD", QTY_TYPE),
    ("order_retyped", "FORWARD", QTY_TYPE),
    ("order_retyped", "FULL", QTY_TYPE),
    ("order_added", "BACKWARD", MISSING_PRIORITY),
    ("order_added", "FORWARD", None),
    ("order_added", "FULL", MISSING_PRIORITY),
]


def _verdict(result: ModelCheck) -> tuple[str, set[str], tuple[str, ...]]:
    return result.status, {str(r) for r in result.reasons}, result.messages


@pytest.mark.parametrize(("change", "level", "reason"), MATRIX)
def test_breaking_changes_under_each_level(  # noqa: PLR0917 (pytest passes fixtures by name)
    registry: ConfluentSchemaRegistry,
    prefix: str,
    tmp_path: Path,
    change: str,
    level: CompatibilityLevel,
    reason: str | None,
) -> None:
    subject = register(registry, prefix, "order_v1")
    registry.set_compatibility(level, subject)
    v2 = order(change)

    online = check_model(v2, topic_prefix=prefix, source=RegistrySource(registry))

    assert online.level == level  # the subject's own level, read from the registry
    assert online.compared == (1,)
    if reason is None:
        assert online.status == "compatible"
        assert online.reasons == ()
    else:
        assert online.status == "incompatible"
        assert reason in {str(r) for r in online.reasons}
        assert all(r.version == 1 for r in online.reasons)

    # The registry's own test and a real register attempt agree with the gate.
    assert registry.test_compatibility(subject, model_schema(v2), "all").is_compatible == (
        reason is None
    )

    # Offline, from downloaded files (level from the manifest) and from exported v1 models.
    download_schemas(registry, out=tmp_path / "downloaded", subjects=[subject])
    downloaded = check_model(
        v2, topic_prefix=prefix, source=DirectorySource(tmp_path / "downloaded")
    )
    export_models([order("order_v1")], topic_prefix=prefix, out=tmp_path / "exported")
    exported = check_model(
        v2, topic_prefix=prefix, source=DirectorySource(tmp_path / "exported"), level=level
    )
    assert _verdict(downloaded) == _verdict(online)
    assert _verdict(exported) == _verdict(online)

    if reason is None:
        registry.register(subject, model_schema(v2))
    else:
        with pytest.raises(IncompatibleSchemaError):
            registry.register(subject, model_schema(v2))


@pytest.mark.parametrize("level", ["BACKWARD", "FORWARD", "FULL", "FULL_TRANSITIVE"])
def test_compatible_change_passes(
    registry: ConfluentSchemaRegistry, prefix: str, level: CompatibilityLevel
) -> None:
    subject = register(registry, prefix, "order_v1")
    registry.set_compatibility(level, subject)

    result = check_model(
        order("order_compatible"), topic_prefix=prefix, source=RegistrySource(registry)
    )

    assert (result.status, result.level, result.reasons) == ("compatible", level, ())


def test_transitive_level_catches_what_latest_only_misses(
    registry: ConfluentSchemaRegistry, prefix: str, tmp_path: Path
) -> None:
    # v1 has no priority, v2 adds it with a default, v3 drops the default: v3 reads v2's data
    # (which always carries priority) but not v1's.
    subject = register(registry, prefix, "order_v1", "order_defaulted")
    v3 = order("order_added")
    source = RegistrySource(registry)

    latest_only = check_model(v3, topic_prefix=prefix, source=source, level="BACKWARD")
    transitive = check_model(v3, topic_prefix=prefix, source=source, level="BACKWARD_TRANSITIVE")

    assert (latest_only.status, latest_only.compared) == ("compatible", (2,))
    assert (transitive.status, transitive.compared) == ("incompatible", (1, 2))
    assert [(str(r), r.version) for r in transitive.reasons] == [(MISSING_PRIORITY, 1)]

    # The subject's own transitive level is used when no level is given.
    registry.set_compatibility("BACKWARD_TRANSITIVE", subject)
    assert _verdict(check_model(v3, topic_prefix=prefix, source=source)) == _verdict(transitive)
    with pytest.raises(IncompatibleSchemaError):
        registry.register(subject, model_schema(v3))

    # Offline with every version downloaded gives the same verdict.
    download_schemas(registry, out=tmp_path / "all", all_versions=True, subjects=[subject])
    offline = check_model(v3, topic_prefix=prefix, source=DirectorySource(tmp_path / "all"))
    assert offline.level == "BACKWARD_TRANSITIVE"
    assert offline.compared == (1, 2)
    assert _verdict(offline) == _verdict(transitive)
