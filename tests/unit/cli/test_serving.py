"""A service that hits a fatal client error exits non-zero with one line, for its supervisor."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from clubhouse.cli.options import EXIT_FAILED
from clubhouse.cli.serving import serve_until_stopped
from clubhouse.services.kafka_errors import FatalKafkaError


class FatalService:
    config = SimpleNamespace(topic_prefix="t")

    def run(self, stop: threading.Event) -> None:
        raise FatalKafkaError("consumer", "static member fenced", "_FENCED")


def test_a_fatal_error_exits_1_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        serve_until_stopped(FatalService(), threading.Event())  # type: ignore[arg-type]
    assert exited.value.code == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith("Error: the service stopped: the Kafka consumer hit a fatal error")
    assert "Traceback" not in err
