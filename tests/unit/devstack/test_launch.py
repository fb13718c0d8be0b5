"""Port checks and the retry when a port we picked is taken before the child binds it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clubhouse.devstack.errors import PortInUseError
from clubhouse.devstack.launch import Readiness, mentions_address_in_use, start_on_port
from clubhouse.devstack.ports import accepts_connections, pick_free_port, port_is_free
from clubhouse.devstack.process import ProcessSpec


def test_a_listening_port_is_not_free(taken_port: int) -> None:
    assert not port_is_free("127.0.0.1", taken_port)
    assert accepts_connections("127.0.0.1", taken_port)


def test_a_picked_port_is_free_and_closed() -> None:
    port = pick_free_port()
    assert port_is_free("127.0.0.1", port)
    assert not accepts_connections("127.0.0.1", port)


@pytest.mark.parametrize(
    "line",
    [
        "ERROR tansu_broker::broker: err=Os { code: 98, kind: AddrInUse }",
        "ERROR:    [Errno 98] error while attempting to bind on address: address already in use",
    ],
)
def test_address_in_use_is_recognised_in_tansu_and_uvicorn_output(line: str) -> None:
    assert mentions_address_in_use(["starting", line])
    assert not mentions_address_in_use(["starting", "ready in 0ms"])


def _server_spec(tmp_path: Path, port: int, fail_first: Path) -> ProcessSpec:
    """A child that says 'address in use' on its first run, then serves ``port``."""
    code = f"""
import pathlib, socket, sys, time
flag = pathlib.Path({str(fail_first)!r})
if not flag.exists():
    flag.touch()
    print("OSError: [Errno 98] Address already in use", file=sys.stderr)
    sys.exit(1)
s = socket.socket(); s.bind(("127.0.0.1", {port})); s.listen(); time.sleep(60)
"""
    return ProcessSpec("fake server", (sys.executable, "-c", code), tmp_path / f"{port}.log")


def _tcp(port: int) -> Readiness:
    return Readiness(lambda: accepts_connections("127.0.0.1", port), f"TCP {port}")


def test_a_picked_port_lost_to_a_race_is_replaced(tmp_path: Path) -> None:
    ports: list[int] = []

    def spec(port: int) -> ProcessSpec:
        ports.append(port)
        return _server_spec(tmp_path, port, tmp_path / "failed-once")

    process, port = start_on_port(
        "fake server", host="127.0.0.1", port=None, make_spec=spec, make_readiness=_tcp, timeout=20
    )
    try:
        assert len(ports) == 2
        assert port == ports[1]
        assert accepts_connections("127.0.0.1", port)
    finally:
        process.stop()


def test_a_configured_port_is_never_swapped(tmp_path: Path) -> None:
    port = pick_free_port()
    with pytest.raises(PortInUseError, match=f"fake server: 127.0.0.1:{port} is already in use"):
        start_on_port(
            "fake server",
            host="127.0.0.1",
            port=port,
            make_spec=lambda p: _server_spec(tmp_path, p, tmp_path / "failed-once"),
            make_readiness=_tcp,
            timeout=20,
        )


def test_a_configured_port_with_a_listener_fails_before_spawning(
    tmp_path: Path, taken_port: int
) -> None:
    spawned: list[int] = []

    def spec(port: int) -> ProcessSpec:
        spawned.append(port)
        return _server_spec(tmp_path, port, tmp_path / "x")

    with pytest.raises(PortInUseError):
        start_on_port(
            "fake",
            host="127.0.0.1",
            port=taken_port,
            make_spec=spec,
            make_readiness=_tcp,
            timeout=5,
        )
    assert spawned == []
