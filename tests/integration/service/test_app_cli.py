"""A user's App run by ``clubhouse run --app`` and driven by ``clubhouse send``, from the
folder that holds it, on a real broker and registry; its state survives a restart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.service.conftest import stop_process

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def clubhouse(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("KAFKA_BOOTSTRAP_SERVERS", "SCHEMA_REGISTRY_URL")}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "clubhouse.cli.main", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def start(project: Path, kafka_broker: str, registry_url: str) -> subprocess.Popen[bytes]:
    log = open(project / "service.log", "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [sys.executable, "-m", "clubhouse.cli.main", "run", "--app", "orders_app:app",
         "--bootstrap-servers", kafka_broker, "--schema-registry-url", registry_url,
         "--state-dir", str(project / "state"), "--kafka-dev-tuning", "--partitions", "2"],
        cwd=project, stdout=log, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def wait_registered(project: Path, proc: subprocess.Popen[bytes], registry_url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError((project / "service.log").read_text()[-3000:])
        # The app's own prefix ("orders"), since no --topic-prefix was given.
        if "orders-OrderShippedEvent-value" in httpx.get(f"{registry_url}/subjects").json():
            return
        time.sleep(0.2)
    raise AssertionError("the app's schemas were not registered in time")


def test_an_app_runs_from_its_folder_is_driven_by_send_and_keeps_its_state(
    kafka_broker: str, registry_url: str, tmp_path: Path
) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    shutil.copy(ROOT / "examples" / "orders" / "orders_app.py", project / "orders_app.py")
    where = ("--bootstrap-servers", kafka_broker, "--schema-registry-url", registry_url)

    def send(model: str, data: dict[str, object]) -> tuple[int, dict[str, object]]:
        done = clubhouse(project, "send", model, "--app", "orders_app:app", "--data",
                         json.dumps(data), "--json", "--timeout", "30", *where)  # fmt: skip
        assert done.stdout.strip(), done.stderr
        return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])

    proc = start(project, kafka_broker, registry_url)
    try:
        wait_registered(project, proc, registry_url)
        code, first = send("PlaceOrderCommand", {"order_id": "o1", "item": "book"})
        assert (code, first["type"], first["total_items"]) == (0, "OrderAcceptedResponse", 1)
        code, second = send("PlaceOrderCommand", {"order_id": "o1", "item": "pen", "quantity": 2})
        assert second["total_items"] == 3
        code, bug = send("PlaceOrderCommand", {"order_id": "o2", "item": "x", "quantity": 0})
        assert (code, bug["type"], bug["error_type"]) == (1, "ErrorResponse", "handler_error")
        code, shipped = send("ShipOrderCommand", {"order_id": "o1"})  # the async handler
        assert (code, shipped["type"]) == (0, "OrderShippedResponse")
    finally:
        assert stop_process(proc) == 0
    proc = start(project, kafka_broker, registry_url)
    try:
        wait_registered(project, proc, registry_url)
        code, late = send("PlaceOrderCommand", {"order_id": "o1", "item": "mug"})
        # The order's state ("shipped") came back with the restarted service.
        assert (code, late["error_type"]) == (1, "order_shipped")
    finally:
        stop_process(proc)


def test_send_validates_data_against_the_model_before_connecting(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "orders" / "orders_app.py", tmp_path / "orders_app.py")
    done = clubhouse(tmp_path, "send", "PlaceOrderCommand", "--app", "orders_app:app",
                     "--data", '{"order_id": ""}', "--bootstrap-servers", "127.0.0.1:1",
                     "--schema-registry-url", "http://127.0.0.1:1")  # fmt: skip
    assert done.returncode == 2
    assert "order_id: String should have at least 1 character" in done.stderr
    assert "item: Field required" in done.stderr
    unknown = clubhouse(tmp_path, "send", "NoSuchCommand", "--app", "orders_app:app",
                        "--data", "{}", "--bootstrap-servers", "127.0.0.1:1",
                        "--schema-registry-url", "http://127.0.0.1:1")  # fmt: skip
    assert unknown.returncode == 2
    assert "PlaceOrderCommand" in unknown.stderr and "ShipOrderCommand" in unknown.stderr
    bad_app = clubhouse(tmp_path, "run", "--app", "orders_app:nothing",
                        "--bootstrap-servers", "127.0.0.1:1",
                        "--schema-registry-url", "http://127.0.0.1:1")  # fmt: skip
    assert bad_app.returncode == 2
    assert "'orders_app' has no attribute 'nothing'" in bad_app.stderr
