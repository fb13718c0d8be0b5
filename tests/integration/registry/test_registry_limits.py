"""Resource limits and hostile input against a real registry process over loopback sockets."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from clubhouse.devstack import RegistryServer
from clubhouse.registry.auth import hash_password
from tests.avro_records import record
from tests.conftest import RegistryFactory

from .conftest import http_client, log_text

pytestmark = pytest.mark.integration


def _connect(server: RegistryServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=20)


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 20 s pass)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (ConnectionResetError, TimeoutError):
        pass
    return b"".join(chunks)


def _status_and_body(raw: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def server_process(server: RegistryServer) -> psutil.Process:
    assert server.process is not None
    return psutil.Process(server.process.pid)


def _fine(server: RegistryServer) -> None:
    with http_client(server) as http:
        assert http.get("/subjects").status_code == 200


def test_an_oversized_header_gets_431_in_confluent_json(registry_factory: RegistryFactory) -> None:
    server = registry_factory()
    with _connect(server) as sock:
        sock.sendall(b"GET /subjects HTTP/1.1\r\nHost: x\r\nX-Big: ")
        # The server stops reading at the limit: that is the point.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"a" * 1_000_000)
        status, body = _status_and_body(_read_all(sock))
    assert status == 431
    assert body["error_code"] == 431 and "16384 bytes" in str(body["message"])
    _fine(server)


def test_a_header_just_under_the_limit_is_served(registry_factory: RegistryFactory) -> None:
    server = registry_factory()
    with http_client(server) as http:
        assert http.get("/subjects", headers={"x-pad": "a" * 15_000}).status_code == 200


def test_idle_and_half_sent_connections_are_closed_with_408(
    registry_factory: RegistryFactory,
) -> None:
    server = registry_factory(extra_args=("--header-timeout", "1", "--body-timeout", "1"))
    idle, half_head, half_body = _connect(server), _connect(server), _connect(server)
    half_head.sendall(b"GET /subjects HTTP/1.1\r\nHost: x\r\n")
    half_body.sendall(
        b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"schema":'
    )
    for sock in (idle, half_head, half_body):
        with sock:
            status, body = _status_and_body(_read_all(sock))
            assert (status, body["error_code"]) == (408, 408)
    _fine(server)


def test_an_idle_keep_alive_connection_is_closed(registry_factory: RegistryFactory) -> None:
    server = registry_factory(extra_args=("--keep-alive-timeout", "1"))
    with _connect(server) as sock:
        sock.sendall(b"GET /subjects HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = _read_all(sock)  # returns only because the server closed the connection
    assert raw.startswith(b"HTTP/1.1 200")


def test_connections_past_the_cap_get_503_and_the_rest_are_served(
    registry_factory: RegistryFactory,
) -> None:
    server = registry_factory(extra_args=("--max-connections", "20"))
    held = [_connect(server) for _ in range(20)]
    try:
        time.sleep(0.2)  # let the server accept them all
        with _connect(server) as extra:
            status, body = _status_and_body(_read_all(extra))
        assert (status, body["error_code"]) == (503, 503)
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    _fine(server)


def test_requests_past_the_in_flight_cap_get_503_at_once(
    registry_factory: RegistryFactory,
) -> None:
    server = registry_factory(extra_args=("--max-in-flight", "1"))
    with _connect(server) as slow:
        # A request whose body never finishes stays in flight.
        slow.sendall(
            b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            b"\r\nContent-Length: 100\r\n\r\n{"
        )
        time.sleep(0.2)
        with http_client(server) as http:
            busy = http.get("/subjects")
        assert (busy.status_code, busy.json()["error_code"]) == (503, 503)
        assert busy.headers["retry-after"] == "1"
    time.sleep(0.2)
    _fine(server)


@pytest.mark.parametrize(
    ("path", "status", "error_code"),
    [
        ("/schemas/ids/9223372036854775808", 404, 40403),
        ("/schemas/ids/+1", 404, 40403),
        ("/schemas/ids/%201", 404, 40403),
        ("/schemas/ids/1_0", 404, 40403),
        ("/subjects/s/versions/+1", 422, 42202),
        ("/subjects/s/versions/%201", 422, 42202),
        ("/subjects/s/versions/1_0", 422, 42202),
        ("/subjects/s/versions/9223372036854775808", 422, 42202),
    ],
)
def test_loose_or_huge_numbers_are_refused_with_confluent_codes(
    session_registry: RegistryServer, path: str, status: int, error_code: int
) -> None:
    with http_client(session_registry) as http:
        http.post("/subjects/s/versions", json={"schema": '"string"'})
        answer = http.get(path)
    assert (answer.status_code, answer.json()["error_code"]) == (status, error_code)


_INNER_SURROGATE = (
    b'{"schema": "{\\"type\\":\\"record\\",\\"name\\":\\"A\\",\\"doc\\":\\"\\\\ud800\\",'
    b'\\"fields\\":[]}"}'
)
_OUTER_SURROGATE = b'{"schema": "\\"string\\"", "x": "\\udc00"}'


@pytest.mark.parametrize("body", [_INNER_SURROGATE, _OUTER_SURROGATE], ids=["inner", "outer"])
def test_lone_surrogates_get_4xx_json_on_register_lookup_and_compatibility(
    session_registry: RegistryServer, body: bytes, topic_prefix: str
) -> None:
    subject = f"{topic_prefix}-s"
    with http_client(session_registry) as http:
        http.post(f"/subjects/{subject}/versions", json={"schema": record("A")})
        for path in (
            f"/subjects/{subject}/versions",
            f"/subjects/{subject}",
            f"/compatibility/subjects/{subject}/versions/latest",
        ):
            answer = http.post(path, content=body, headers={"content-type": "application/json"})
            assert answer.status_code in (400, 422), (path, answer.text)
            assert "surrogate" in answer.json()["message"]


def _auth_server(registry_factory: RegistryFactory, tmp_path: Path) -> RegistryServer:
    users = tmp_path / "users"
    users.write_text(f"alice:{hash_password('wonderland')}\n")
    return registry_factory(basic_auth_file=users)


def test_non_ascii_basic_auth_is_401_and_refusals_are_not_logged_at_info(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    server = _auth_server(registry_factory, tmp_path)
    before = len(log_text(server).splitlines())
    with _connect(server) as sock:
        sock.sendall(
            b"GET /subjects HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Authorization: Basic \xe9\xff\r\n\r\n"
        )
        status, body = _status_and_body(_read_all(sock))
    assert (status, body["error_code"]) == (401, 401)
    with http_client(server) as http:
        for n in range(30):
            assert http.get(f"/subjects/a%0Aforged-{n}/versions").status_code == 401
    for _ in range(30):
        with _connect(server) as sock:
            sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            assert _read_all(sock).startswith(b"HTTP/1.1 400")
    lines = log_text(server).splitlines()
    assert len(lines) - before < 5, lines[before:]
    assert not any(line.startswith("forged") for line in lines)


def test_a_wrong_password_flood_is_throttled_and_memory_stays_bounded(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    server = _auth_server(registry_factory, tmp_path)
    process = server_process(server)
    good = httpx.Client(base_url=server.url, auth=("alice", "wonderland"), timeout=30)
    assert good.get("/subjects").status_code == 200
    rss_before = process.memory_info().rss

    def attempt(n: int) -> int:
        with httpx.Client(base_url=server.url, auth=("alice", f"guess-{n}"), timeout=30) as c:
            return c.get("/subjects").status_code

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(attempt, range(200)))
    rss_after = process.memory_info().rss
    assert set(statuses) <= {401, 429, 503}
    assert statuses.count(401) <= 20  # the throttle cut the flood short
    assert rss_after - rss_before < 100 * 1024 * 1024, (rss_before, rss_after)
    # The logged-in client was never blocked.
    answer = good.post("/subjects/s/versions", json={"schema": record("A")})
    assert answer.status_code == 200
    good.close()


def test_after_importing_the_largest_id_a_normal_register_is_refused_clearly(
    registry_factory: RegistryFactory,
) -> None:
    server = registry_factory()
    with http_client(server) as http:
        assert (
            http.put("/mode", params={"force": "true"}, json={"mode": "IMPORT"}).status_code == 200
        )
        imported = http.post(
            "/subjects/a/versions", json={"schema": record("A"), "id": 2**31 - 1, "version": 1}
        )
        assert imported.json()["id"] == 2**31 - 1
        assert http.put("/mode", json={"mode": "READWRITE"}).status_code == 200
        refused = http.post("/subjects/b/versions", json={"schema": record("B")})
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42205)
    assert "No schema id is left" in refused.json()["message"]


def test_under_a_low_open_file_limit_extra_clients_get_503_and_nothing_floods_the_log(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    wrapper = tmp_path / "python-low-nofile"
    wrapper.write_text(f'#!/bin/sh\nulimit -n 600\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    server = registry_factory(python=str(wrapper))
    assert server_process(server).rlimit(psutil.RLIMIT_NOFILE)[0] == 600
    held = [_connect(server) for _ in range(500)]
    time.sleep(2.0)  # the registry accepts them all; the header timeout (10 s) is far off
    answered, _, _ = select.select(held, [], [], 0)
    statuses = Counter(sock.recv(65536)[:12] for sock in answered)
    # About 280 are kept (600 descriptors less the reserve); every other one got a clean 503.
    assert set(statuses) == {b"HTTP/1.1 503"}, statuses
    assert 150 <= statuses[b"HTTP/1.1 503"] < 500, statuses
    assert server_process(server).num_fds() < 600
    for sock in held:
        sock.close()
    time.sleep(0.3)
    _fine(server)
    log = log_text(server)
    assert "Too many open files" not in log
    assert "connection limit lowered" in log


def _wide(fields: int, *extra: tuple[str, object, object]) -> str:
    return record("Wide", *[(f"f{i}", "long") for i in range(fields)], *extra)


def test_a_20k_field_schema_is_registered_and_checked(
    session_registry: RegistryServer, topic_prefix: str
) -> None:
    subject = f"{topic_prefix}-wide"
    with http_client(session_registry) as http:
        first = http.post(f"/subjects/{subject}/versions", json={"schema": _wide(20_000)})
        assert first.status_code == 200, first.text
        assert first.json()["version"] == 1
        compatible = _wide(20_000, ("added", "string", ""))
        url = f"/compatibility/subjects/{subject}/versions/latest"
        assert http.post(url, json={"schema": compatible}).json() == {"is_compatible": True}
        # No default: readers of the new schema cannot read old data.
        breaking = json.loads(_wide(20_000))
        breaking["fields"].append({"name": "required", "type": "string"})
        refused = http.post(
            url, params={"verbose": "true"}, json={"schema": json.dumps(breaking)}
        ).json()
        assert refused["is_compatible"] is False
        assert "'required'" in refused["messages"][0]
        second = http.post(f"/subjects/{subject}/versions", json={"schema": compatible})
        assert second.json()["version"] == 2
        looked_up = http.post(f"/subjects/{subject}", json={"schema": _wide(20_000)})
        assert looked_up.json()["version"] == 1


def test_a_schema_over_the_field_budget_gets_413_in_confluent_json(
    session_registry: RegistryServer, topic_prefix: str
) -> None:
    with http_client(session_registry) as http:
        answer = http.post(
            f"/subjects/{topic_prefix}-huge/versions", json={"schema": _wide(50_001)}
        )
        assert answer.status_code == 413
        assert answer.json() == {
            "error_code": 413,
            "message": "The schema declares 50001 record fields (nested records and references "
            "included); this registry accepts at most 50000 in one request.",
        }
        assert http.get(f"/subjects/{topic_prefix}-huge/versions").status_code == 404


def test_the_field_budget_is_set_with_a_flag(registry_factory: RegistryFactory) -> None:
    server = registry_factory(extra_args=("--max-schema-fields", "10"))
    with http_client(server) as http:
        too_wide = http.post("/subjects/w-value/versions", json={"schema": _wide(11)})
        fits = http.post("/subjects/w-value/versions", json={"schema": _wide(10)})
    assert too_wide.status_code == 413
    assert "at most 10 in one request" in too_wide.json()["message"]
    assert fits.status_code == 200


def _read_response(sock: socket.socket) -> tuple[bytes, dict[str, object]]:
    """One response: its status line and its JSON body (read by Content-Length)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response head: {raw!r}"
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lengths = [
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]
    if not lengths:  # an interim answer (100 Continue) has no body
        return head.split(b"\r\n", 1)[0], {}
    length = lengths[0]
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the middle of a response body"
        body += chunk
    return head.split(b"\r\n", 1)[0], json.loads(body[:length])


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", b"Transfer-Encoding"),
        (b"Content-Length: 4\r\nContent-Length: 5\r\n", b"Content-Length"),
    ],
    ids=["length-and-chunked", "two-lengths"],
)
def test_a_smuggling_attempt_gets_400_in_confluent_json(
    session_registry: RegistryServer, headers: bytes, reason: bytes
) -> None:
    with _connect(session_registry) as sock:
        sock.sendall(
            b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\n" + headers + b"\r\n0\r\n\r\n"
        )
        raw = _read_all(sock)  # the connection is closed after the answer
    status, body = _status_and_body(raw)
    assert status == 400
    assert body["error_code"] == 400
    assert reason.decode() in str(body["message"])
    assert b"content-type: application/vnd.schemaregistry.v1+json" in raw.lower()
    _fine(session_registry)


def test_expect_100_continue_with_a_too_large_body_gets_413_before_any_body(
    session_registry: RegistryServer,
) -> None:
    with _connect(session_registry) as sock:
        sock.sendall(
            b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
            b"Content-Length: 52428800\r\n\r\n"
        )
        status_line, body = _read_response(sock)  # nothing of the body was sent
    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    assert body["error_code"] == 413
    assert "4194304 bytes" in str(body["message"])
    _fine(session_registry)


def test_expect_100_continue_within_the_limit_is_served(session_registry: RegistryServer) -> None:
    payload = json.dumps({"schema": record("Fits")}).encode()
    with _connect(session_registry) as sock:
        sock.sendall(
            b"POST /subjects/expect-fits/versions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
            b"Content-Length: %d\r\n\r\n" % len(payload)
        )
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(payload)
        status_line, body = _read_response(sock)
    assert status_line.startswith(b"HTTP/1.1 200")
    assert body["version"] == 1
