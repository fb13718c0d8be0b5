"""Docs built against a real registry process: ids, versions, history, changelog, level."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from clubhouse.agents.messages import CreateAgentCommand
from clubhouse.cli.main import cli
from clubhouse.contracts import ErrorResponse
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings
from tests.unit.docs.asyncapi_validation import asyncapi_errors

pytestmark = pytest.mark.integration

PREFIX = "clubhouse"


@pytest.fixture
def registry(registry_url: str) -> Iterator[ConfluentSchemaRegistry]:
    client = ConfluentSchemaRegistry.from_settings(RegistrySettings.from_env(registry_url))
    yield client
    client.close()


def _older_create_agent() -> str:
    """CreateAgentCommand as first released: no personality_type, and a since-dropped note."""
    schema = json.loads(model_schema(CreateAgentCommand))
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "personality_type"]
    schema["fields"].append({"name": "legacy_note", "type": "string", "default": ""})
    return json.dumps(schema)


def test_docs_show_version_history_changelog_and_compatibility(
    registry: ConfluentSchemaRegistry, registry_url: str, tmp_path: Path
) -> None:
    subject = subject_name(PREFIX, CreateAgentCommand)
    registry.register(subject, _older_create_agent())
    registry.register(subject, model_schema(CreateAgentCommand))
    assert registry.get_versions(subject) == [1, 2]  # the registry accepted both (BACKWARD)
    first, second = (registry.get_version(subject, v) for v in (1, 2))
    # A subject whose latest version is not the local model, under its own level.
    error_subject = subject_name(PREFIX, ErrorResponse)
    registry.set_compatibility("NONE", error_subject)
    older_error = json.loads(model_schema(ErrorResponse))
    older_error["fields"] = [f for f in older_error["fields"] if f["name"] != "details"]
    stale_id = registry.register(error_subject, json.dumps(older_error)).schema_id

    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["docs", "build", "--out", str(out), "--url", registry_url])
    assert result.exit_code == 0, result.output
    assert f"with history from {registry_url}" in result.stdout

    html = (out / "index.html").read_text()
    create = _section(html, "msg-CreateAgentCommand")
    assert f"id <strong>{second.schema_id}</strong>, version <strong>2</strong>" in create
    assert "<dt>Compatibility</dt><dd><code>BACKWARD</code></dd>" in create
    rows = re.findall(r'<tr class="version( current)?" data-version="(\d+)">', create)
    assert rows == [(" current", "2"), ("", "1")]  # newest first, the local model marked
    v2 = create[create.index('data-version="2"') : create.index('data-version="1"')]
    assert '<span class="chg added">added</span> <code>personality_type</code>' in v2
    assert '<span class="chg removed">removed</span> <code>legacy_note</code>' in v2
    assert "first version" in create[create.index('data-version="1"') :]

    error = _section(html, "msg-ErrorResponse")
    assert "<code>NONE</code>" in error
    assert f"the latest is version 1 (id {stale_id})" in error
    assert '<span class="chg added">added</span> <code>details</code>' in error
    assert "No version of <code>clubhouse-DeleteAgentCommand-value</code>" in html

    md = (out / "messages.md").read_text()
    assert f"- v2, id {second.schema_id} (this model): `legacy_note` removed" in md
    assert f"- v1, id {first.schema_id}: first version" in md

    asyncapi = yaml.safe_load((out / "asyncapi.yaml").read_text())
    assert asyncapi_errors(asyncapi) == []
    message = asyncapi["components"]["messages"]["CreateAgentCommand"]
    assert message["x-clubhouse-schema-id"] == second.schema_id
    assert message["x-clubhouse-schema-version"] == 2


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</article>", start)]
