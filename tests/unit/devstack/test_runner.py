"""Signal handling and the text ``clubhouse dev`` prints."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from clubhouse.devstack import DevStack, DevStackConfig, DevStackError
from clubhouse.devstack.runner import format_env, shutdown_signals


def test_format_env_quotes_values_for_the_shell() -> None:
    text = format_env({"A": "127.0.0.1:9092", "B": "http://u:p w@h"})
    assert text == "export A=127.0.0.1:9092\nexport B='http://u:p w@h'\n"


def test_first_signal_sets_the_event_second_one_interrupts() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with shutdown_signals() as stop:
        assert not stop.is_set()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(5)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            stop.wait(5)  # the handler raises in the main thread while we wait
    assert signal.getsignal(signal.SIGTERM) is before


def test_env_without_registry_has_only_the_broker(tmp_path: Path) -> None:
    stack = DevStack(DevStackConfig(data_dir=tmp_path, with_registry=False, broker_port=9))
    assert stack.env() == {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    with pytest.raises(DevStackError, match="without a schema registry"):
        _ = stack.schema_registry_url


def test_paths_live_under_the_data_dir(tmp_path: Path) -> None:
    config = DevStackConfig(data_dir=tmp_path)
    assert config.registry_config().db_path == tmp_path / "registry.db"
    assert config.broker_config().log_path == tmp_path / "logs" / "broker.log"
    assert config.registry_config().log_path == tmp_path / "logs" / "registry.log"
