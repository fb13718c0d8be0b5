"""The wire contract both peers speak: the echo job's three schemas and their registered ids.

The peers read and write exactly what Clubhouse's echo agent does, on a prefix of their own:
``ProcessMessageCommand`` in, ``MessageProcessedResponse`` and ``AgentThinkingEvent`` out,
each in Confluent framing under the id the registry gives its subject. ``register`` puts the
built-in catalog under the prefix (as ``clubhouse register`` would, so the benchmark's driver
can look every id up) and writes the three schemas with their ids to a JSON file that the
Kafka Streams and FastStream apps read at start.
"""

from __future__ import annotations

import json
from pathlib import Path

from clubhouse.agents.messages import (
    AgentThinkingEvent,
    MessageProcessedResponse,
    ProcessMessageCommand,
    agents_catalog,
)
from clubhouse.messaging.schema_registrator import SchemaRegistrator
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.schema_registry import ConfluentSchemaRegistry

ROLES = {
    "command": ProcessMessageCommand,
    "response": MessageProcessedResponse,
    "event": AgentThinkingEvent,
}


def register(registry: ConfluentSchemaRegistry, prefix: str, path: Path) -> Path:
    """Register the catalog under ``prefix`` and write the peers' contract file to ``path``."""
    report = SchemaRegistrator(registry, agents_catalog(), prefix).register_all_schemas()
    if not report.ok:
        raise SystemExit(f"registration under {prefix} failed: {report.failed[0].error}")
    contract: dict[str, dict[str, object]] = {}
    for role, model in ROLES.items():
        found = registry.lookup(subject_name(prefix, model), model_schema(model))
        if found is None:
            raise SystemExit(f"{subject_name(prefix, model)} is not registered")
        contract[role] = {"id": found.schema_id, "schema": found.schema}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(contract))
    return path
