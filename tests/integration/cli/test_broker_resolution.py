"""Which broker ``run`` and ``run_clubhouse.py`` use beside a given registry (issue 17)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clubhouse.devstack.ports import port_is_free
from tests.fixed_ports import fixed_ports

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
ENTRY_POINTS = {
    "clubhouse-run": [sys.executable, "-m", "clubhouse.cli.main", "run"],
    "run_clubhouse.py": [sys.executable, str(ROOT / "scripts" / "run_clubhouse.py")],
}


def env_with(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL")}  # fmt: skip
    return env | {"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT), **variables}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_registry_only_and_nothing_on_9092_exits_2_naming_the_address(
    entry: str, registry_url: str, tmp_path: Path
) -> None:
    with fixed_ports():  # never beside the founding examples, which hold 9092 themselves
        if not port_is_free("127.0.0.1", 9092):
            pytest.skip("something listens on localhost:9092 here, so the default broker "
                        "answers")  # fmt: skip
        done = subprocess.run(
            ENTRY_POINTS[entry], cwd=tmp_path, env=env_with(SCHEMA_REGISTRY_URL=registry_url),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "no Kafka broker answers at localhost:9092" in done.stderr
    assert "KAFKA_BOOTSTRAP_SERVERS" in done.stderr and "--bootstrap-servers" in done.stderr
    assert "Traceback" not in done.stderr


def test_kafka_bootstrap_servers_is_used_and_logged(
    kafka_broker: str, registry_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    out = tmp_path / "run.out"
    env = env_with(SCHEMA_REGISTRY_URL=registry_url, KAFKA_BOOTSTRAP_SERVERS=kafka_broker)
    proc = subprocess.Popen(
        [*ENTRY_POINTS["clubhouse-run"], "--topic-prefix", topic_prefix], cwd=tmp_path, env=env,
        text=True, stdout=out.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    try:
        while "Serving commands" not in out.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(out.read_text()[-3000:])
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    assert f"using Kafka broker {kafka_broker} (from KAFKA_BOOTSTRAP_SERVERS)" in out.read_text()
