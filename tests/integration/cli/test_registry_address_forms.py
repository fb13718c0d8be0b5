"""Registry addresses as users type them, against a real registry process."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from clubhouse.cli.main import cli

pytestmark = pytest.mark.integration


def test_a_registry_address_without_a_scheme_is_http(registry_url: str, topic_prefix: str) -> None:
    address = registry_url.removeprefix("http://")
    assert "://" not in address
    first = CliRunner().invoke(
        cli, ["register", "--topic-prefix", topic_prefix], env={"SCHEMA_REGISTRY_URL": address}
    )
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(
        cli, ["register", "--url", address, "--topic-prefix", topic_prefix, "--json"]
    )
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["registered"], report["failed"]) == (0, 0)
    assert report["already_registered"] > 0
