"""Soak: mixed load, 200 idle or half-sent connections and a login flood, for minutes.

The registry process's RSS and open file descriptors must stay flat. The run lasts
``$CLUBHOUSE_SOAK_SECONDS`` (default 40, so CI stays sane; the hardening figures come from a
600 s run: ``CLUBHOUSE_SOAK_SECONDS=600 pytest -m slow -s tests/integration/registry``).
"""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import psutil
import pytest

from clubhouse.devstack import RegistryServer
from clubhouse.registry.auth import hash_password
from tests.avro_records import record
from tests.conftest import RegistryFactory

IDLE_CONNECTIONS = 200
SAMPLE_EVERY_S = 2.0


def _duration() -> float:
    return float(os.environ.get("CLUBHOUSE_SOAK_SECONDS", "40"))


pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(_duration() + 180),  # the run itself, plus start-up and wind-down
]


class Idlers:
    """Keeps ``count`` connections open that send nothing or half a request, reopening any the
    server closes, so the server always faces that many."""

    def __init__(self, port: int, count: int) -> None:
        self._port = port
        self._socks = [self._open(n) for n in range(count)]
        self.reopened = 0

    def _open(self, n: int) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self._port), timeout=5)
        if n % 2:
            sock.sendall(b"GET /subjects HTTP/1.1\r\nHost: x\r\n")  # never finished
        return sock

    def tend(self) -> None:
        readable, _, _ = select.select(self._socks, [], [], 0)
        for sock in readable:
            n = self._socks.index(sock)
            sock.close()
            self._socks[n] = self._open(n)
            self.reopened += 1

    def close(self) -> None:
        for sock in self._socks:
            sock.close()


def _load(url: str, stop: threading.Event, statuses: Counter[str], worker: int) -> None:
    with httpx.Client(base_url=url, auth=("alice", "wonderland"), timeout=30) as http:
        n = 0
        while not stop.is_set():
            subject = f"soak-{worker}-{n % 10}"
            schema = record(f"Soak{n % 10}", ("a", "int"))
            for answer in (
                http.post(f"/subjects/{subject}/versions", json={"schema": schema}),
                http.post(f"/subjects/{subject}", json={"schema": schema}),
                http.post(
                    f"/compatibility/subjects/{subject}/versions/latest", json={"schema": schema}
                ),
                http.get("/subjects"),
                http.get("/schemas/ids/1"),
            ):
                statuses[f"load {answer.status_code}"] += 1
            n += 1


def _flood(url: str, stop: threading.Event, statuses: Counter[str]) -> None:
    n = 0
    while not stop.is_set():
        with httpx.Client(base_url=url, auth=("alice", f"guess-{n}"), timeout=30) as http:
            statuses[f"flood {http.get('/subjects').status_code}"] += 1
        n += 1


def _auth_server(registry_factory: RegistryFactory, tmp_path: Path) -> RegistryServer:
    users = tmp_path / "users"
    users.write_text(f"alice:{hash_password('wonderland')}\n")
    return registry_factory(basic_auth_file=users, extra_args=("--header-timeout", "5"))


def test_rss_and_file_descriptors_stay_flat_under_a_long_mixed_load(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    server = _auth_server(registry_factory, tmp_path)
    assert server.process is not None
    process = psutil.Process(server.process.pid)
    duration = _duration()
    stop = threading.Event()
    statuses: Counter[str] = Counter()
    threads = [
        threading.Thread(target=_load, args=(server.url, stop, statuses, w)) for w in range(3)
    ] + [threading.Thread(target=_flood, args=(server.url, stop, statuses)) for _ in range(4)]
    idlers = Idlers(server.port, IDLE_CONNECTIONS)
    samples: list[tuple[float, int, int]] = []
    start = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        while (elapsed := time.monotonic() - start) < duration:
            idlers.tend()
            samples.append((elapsed, process.memory_info().rss, process.num_fds()))
            time.sleep(SAMPLE_EVERY_S)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        idlers.close()

    warm = [s for s in samples if s[0] >= duration * 0.25] or samples
    first, last = warm[: max(len(warm) // 4, 1)], warm[-max(len(warm) // 4, 1) :]
    rss_start = max(s[1] for s in first)
    rss_end = max(s[1] for s in last)
    fds_peak = max(s[2] for s in samples)
    figures = {
        "seconds": round(duration),
        "rss_mb_after_warmup": round(rss_start / 2**20, 1),
        "rss_mb_at_end": round(rss_end / 2**20, 1),
        "rss_mb_peak": round(max(s[1] for s in samples) / 2**20, 1),
        "fds_after_warmup": max(s[2] for s in first),
        "fds_at_end": max(s[2] for s in last),
        "fds_peak": fds_peak,
        "idle_reopened": idlers.reopened,
        "statuses": dict(sorted(statuses.items())),
    }
    print("soak figures:", json.dumps(figures))
    assert statuses["load 200"] > 0 and statuses["flood 429"] > 0, figures
    assert sum(v for k, v in statuses.items() if k.startswith("load 5")) == 0, figures
    assert idlers.reopened > 0, figures  # the server did close idle connections
    assert rss_end <= rss_start * 1.15 + 20 * 2**20, figures
    assert fds_peak <= IDLE_CONNECTIONS + 100, figures
    assert max(s[2] for s in last) <= max(s[2] for s in first) + 30, figures
