"""The three ways the founding document starts Clubhouse, run literally (issue 17).

They need a broker on localhost:9092 and a registry on localhost:8081; the test starts both
there with the devstack classes when the ports are free, and skips saying so when not.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clubhouse.devstack import BrokerConfig, RegistryConfig, RegistryServer, TansuBroker
from clubhouse.devstack.ports import port_is_free
from tests.fixed_ports import fixed_ports

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]

EXAMPLES = {
    "flags": "python scripts/run_clubhouse.py --bootstrap-servers localhost:9092 "
    "--schema-registry-url http://localhost:8081",
    "register-only": "python scripts/run_clubhouse.py --schema-registry-url "
    "http://localhost:8081 --register-schemas-only",
    "env-only": "export SCHEMA_REGISTRY_URL=http://localhost:8081\npython scripts/run_clubhouse.py",
}


def shell_env() -> dict[str, str]:
    """This interpreter first on PATH as ``python``, and no connection variables set."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL")}  # fmt: skip
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env | {"PATH": path, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def standard_ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A Tansu broker on localhost:9092 and a registry on localhost:8081, for this module;
    other test workers that need those ports wait their turn (``fixed_ports``)."""
    with fixed_ports():
        taken = [p for p in (9092, 8081) if not port_is_free("127.0.0.1", p)]
        if taken:
            pytest.skip(f"port(s) {taken} are in use here; the founding examples need 9092 "
                        "and 8081")  # fmt: skip
        directory = tmp_path_factory.mktemp("standard-ports")
        broker = TansuBroker(BrokerConfig(log_path=directory / "broker.log", port=9092))
        registry = RegistryServer(RegistryConfig(
            db_path=directory / "registry.db", log_path=directory / "registry.log", port=8081,
        ))  # fmt: skip
        with broker, registry:
            yield


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working directory where ``scripts/run_clubhouse.py`` is the repository's script."""
    (tmp_path / "scripts").symlink_to(ROOT / "scripts")
    return tmp_path


def serve_then_stop(script: str, cwd: Path) -> str:
    """Run ``script`` until the service serves, then Ctrl-C it; its output."""
    out = cwd / "run.out"
    proc = subprocess.Popen(["bash", "-c", script], cwd=cwd, env=shell_env(), text=True,
                            stdout=out.open("w"), stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 120
    try:
        while "Serving commands" not in out.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{script!r} did not start serving:\n{out.read_text()[-3000:]}")
            time.sleep(0.2)
    finally:
        # bash -c with one command execs it, so the signal reaches Python directly.
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    assert code == 0, out.read_text()[-3000:]
    return out.read_text()


def test_flags_example(standard_ports: None, project: Path) -> None:
    printed = serve_then_stop(EXAMPLES["flags"], project)
    assert "using Kafka broker localhost:9092 (from --bootstrap-servers)" in printed


def test_register_only_example(standard_ports: None, project: Path) -> None:
    done = subprocess.run(["bash", "-c", EXAMPLES["register-only"]], cwd=project,
                          env=shell_env(), capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "schemas in place at http://localhost:8081" in done.stdout


def test_registry_only_example_uses_localhost_9092(standard_ports: None, project: Path) -> None:
    printed = serve_then_stop(EXAMPLES["env-only"], project)
    assert (
        "using Kafka broker localhost:9092 (no --bootstrap-servers and no "
        "KAFKA_BOOTSTRAP_SERVERS; localhost:9092 is Kafka's default)"
    ) in printed
    assert "Kafka broker (Tansu)" not in printed  # no embedded stack was started
