"""What ``clubhouse send`` imports: none of the heavy modules it has no use for.

A fresh interpreter imports every module of the send path (as ``request`` and ``connect``
do once a command runs) and lists which of the modules below got loaded along the way.
Each one cost a send tens of milliseconds of start-up before it was taken off the path.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SEND_PATH = (
    "clubhouse.cli.main",
    "clubhouse.cli.client_cmd",
    "clubhouse.cli.probe",
    "clubhouse.cli.registry_lookup",
    "clubhouse.agents.messages",
    "clubhouse.client",
    "clubhouse.errors",
    "clubhouse.services.kafka_settings",
)

KEPT_OFF = (
    "confluent_kafka.schema_registry",  # authlib, joserfc, httpx: the registry client
    "clubhouse.services.schema_registry",
    "httpx",
    "clubhouse.application",  # asyncio and the dispatcher
    "clubhouse.services.kafka_admin",
    "prometheus_client",
)


@pytest.fixture(scope="module")
def loaded() -> set[str]:
    script = (
        "import importlib, json, sys\n"
        f"for name in {SEND_PATH!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("module", KEPT_OFF)
def test_the_send_path_does_not_import(module: str, loaded: set[str]) -> None:
    assert "clubhouse.client" in loaded  # the script did run the send path
    assert module not in loaded
