"""The connect probes against real loopback listeners: silent, non-HTTP, HTTP, and none."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from clubhouse.cli.probe import ProbeError, probe_brokers, probe_registry, split_host_port
from clubhouse.services.registry_errors import RegistryUnauthorizedError
from clubhouse.services.registry_http import RegistryHttp
from clubhouse.services.schema_registry import RegistrySettings
from tests.web_server import html_server


def serve(reply: bytes | None) -> Iterator[int]:
    """A listener that answers each connection with ``reply`` (None: never answers)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def loop() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            if reply is None:
                held.append(conn)
            else:
                conn.recv(1024)
                conn.sendall(reply)
                conn.close()

    threading.Thread(target=loop, daemon=True).start()
    yield int(server.getsockname()[1])
    server.close()
    for conn in held:
        conn.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    yield from serve(None)


@pytest.fixture
def binary_port() -> Iterator[int]:
    yield from serve(b"\x00\x00\x00\x08kafka")


@pytest.fixture
def tls_alert_port() -> Iterator[int]:
    # What a TLS listener sends for bytes that are not a ClientHello: a fatal alert record.
    yield from serve(b"\x15\x03\x03\x00\x02\x02\x0a")


@pytest.fixture
def http_port() -> Iterator[int]:
    yield from serve(b"HTTP/1.0 404 Not Found\r\n\r\n")


@pytest.fixture
def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_silent_port_is_no_registry(silent_port: int) -> None:
    with pytest.raises(ProbeError) as caught:
        probe_registry(f"http://127.0.0.1:{silent_port}", named_by="--url", timeout=0.3)
    assert f"(--url): http://127.0.0.1:{silent_port}: it accepted the connection" in str(
        caught.value
    )
    assert "Kafka broker's port" in str(caught.value)


def test_a_non_http_reply_is_no_registry(binary_port: int) -> None:
    with pytest.raises(ProbeError, match="not with HTTP"):
        probe_registry(f"http://127.0.0.1:{binary_port}", named_by="--url", timeout=1)


def test_any_http_reply_is_a_registry_and_fail_over_tries_the_next(
    http_port: int, dead_port: int
) -> None:
    probe_registry(f"http://127.0.0.1:{http_port}", named_by="x", timeout=1)
    probe_registry(f"http://127.0.0.1:{dead_port},http://127.0.0.1:{http_port}", named_by="x")


def test_credentials_in_the_url_are_not_repeated(dead_port: int) -> None:
    with pytest.raises(ProbeError) as caught:
        probe_registry(f"http://ci:s3cret@127.0.0.1:{dead_port}", named_by="SCHEMA_REGISTRY_URL")
    assert "s3cret" not in str(caught.value)
    assert f"http://127.0.0.1:{dead_port}: cannot connect" in str(caught.value)


def test_brokers(silent_port: int, dead_port: int) -> None:
    # Silence is not judged: a TLS listener may wait for a handshake the probe cannot do.
    probe_brokers(f"127.0.0.1:{dead_port},127.0.0.1:{silent_port}", named_by="x", timeout=0.3)
    with pytest.raises(ProbeError) as caught:
        probe_brokers(f"127.0.0.1:{dead_port}", named_by="from KAFKA_BOOTSTRAP_SERVERS")
    assert f"no Kafka broker answers at 127.0.0.1:{dead_port} (from KAFKA_BOOTSTRAP_SERVERS)" in (
        str(caught.value)
    )


@pytest.mark.parametrize(
    ("address", "expected"),
    [("h:1", ("h", 1)), ("h", ("h", 9092)), ("[::1]:9", ("::1", 9)), (" h:2 ", ("h", 2))],
)
def test_split_host_port(address: str, expected: tuple[str, int]) -> None:
    assert split_host_port(address, 9092) == expected


def test_refused_tells_a_starting_server_from_a_wrong_one(silent_port: int, dead_port: int) -> None:
    with pytest.raises(ProbeError) as wrong:
        probe_registry(f"http://127.0.0.1:{silent_port}", named_by="x", timeout=0.3)
    with pytest.raises(ProbeError) as starting:
        probe_registry(f"http://127.0.0.1:{dead_port}", named_by="x")
    assert (wrong.value.refused, starting.value.refused) == (False, True)


@pytest.fixture
def web_server() -> Iterator[str]:
    with html_server() as address:
        yield address


def test_a_web_server_is_no_broker_and_is_named(web_server: str, dead_port: int) -> None:
    servers = f"127.0.0.1:{dead_port},{web_server}"
    with pytest.raises(ProbeError) as caught:
        probe_brokers(servers, named_by="from --bootstrap-servers")
    message = str(caught.value)
    assert message.startswith(f"no Kafka broker answers at {servers} (from --bootstrap-servers)")
    # Python's http.server takes the request for HTTP/0.9 and answers its error page alone.
    assert f"{web_server} answered with HTML, not Kafka" in message
    assert "1213486160" not in message
    assert caught.value.refused is False


def test_an_http_status_line_is_no_broker(http_port: int) -> None:
    with pytest.raises(ProbeError) as caught:
        probe_brokers(f"127.0.0.1:{http_port}", named_by="from KAFKA_BOOTSTRAP_SERVERS")
    assert f"127.0.0.1:{http_port} answered with HTTP, not Kafka" in str(caught.value)


def test_a_reply_that_is_not_kafka_framing_is_no_broker(binary_port: int) -> None:
    with pytest.raises(ProbeError) as caught:
        probe_brokers(f"127.0.0.1:{binary_port}", named_by="x", timeout=1)
    assert f"127.0.0.1:{binary_port} answered, but not with Kafka's protocol" in str(caught.value)
    assert caught.value.refused is False


def test_a_tls_listener_is_left_to_the_client(tls_alert_port: int) -> None:
    probe_brokers(f"127.0.0.1:{tls_alert_port}", named_by="x", timeout=1)


@pytest.mark.parametrize("status", [200, 404])
def test_a_web_server_is_no_registry_and_is_named(status: int) -> None:
    with html_server(status) as address, pytest.raises(ProbeError) as caught:
        probe_registry(f"http://{address}/", named_by="--url")
    assert str(caught.value) == (
        f"cannot reach the schema registry (--url): http://{address}: not a schema registry "
        f"(GET /subjects answered HTTP {status}, content type text/html; charset=utf-8)"
    )
    assert caught.value.refused is False


def test_a_proxy_asking_for_credentials_is_left_to_the_client() -> None:
    # A proxy in front of a registry may answer 401 with its own HTML page: the probe has
    # no credentials to judge by, and the client reports the refusal as such.
    with html_server(401) as address:
        url = f"http://{address}"
        probe_registry(url, named_by="--url")
        settings = RegistrySettings(urls=[url], max_retries=0)
        with RegistryHttp(settings) as http, pytest.raises(RegistryUnauthorizedError):
            http.call("GET", "/subjects")
