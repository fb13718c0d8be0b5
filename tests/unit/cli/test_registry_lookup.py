"""The registry client of a one-shot command: usual answers read over plain HTTP, anything
else handed to the full client, and the errors those give in the same words."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from clubhouse.cli import gc_pause
from clubhouse.cli.registry_lookup import (
    ClosableRegistry,
    PlainLookups,
    one_shot_registry,
    plain_http,
)
from clubhouse.services.kafka_protocol import RegisteredSchema
from clubhouse.services.registry_errors import (
    RegistryError,
    RegistryUnauthorizedError,
    error_for,
)
from clubhouse.services.registry_settings import RegistrySettings

SCHEMA = '{"type":"record","name":"Ping","fields":[{"name":"n","type":"int"}]}'
# The same schema as a registry may keep it: its keys in another order.
STORED = '{"name":"Ping","fields":[{"type":"int","name":"n"}],"type":"record"}'

Answer = tuple[int, Any]


@dataclass
class FakeRegistry:
    """Answers by method and path; records every request it was asked."""

    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    asked: list[tuple[str, str, str | None]] = field(default_factory=list)
    url: str = ""

    def answer(self, method: str, path: str) -> Answer:
        for (m, prefix), found in self.answers.items():
            if m == method and path.startswith(prefix):
                return found
        return 404, {"error_code": 40401, "message": "Subject 'x' not found."}


@contextmanager
def serving(registry: FakeRegistry) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            registry.asked.append((self.command, self.path, self.headers.get("Authorization")))
            status, payload = registry.answer(self.command, self.path)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _reply

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    registry.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield registry.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class FullClient:
    """Stands in for ConfluentSchemaRegistry; says what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.closed = False

    def lookup(self, subject: str, schema: str) -> RegisteredSchema | None:
        self.calls.append(("lookup", (subject,)))
        return RegisteredSchema(subject, 9, 99, schema)

    def get_schema(self, schema_id: int) -> str:
        self.calls.append(("get_schema", (schema_id,)))
        return "from the full client"

    def get_subjects(self) -> list[str]:
        self.calls.append(("get_subjects", ()))
        return ["s"]

    def close(self) -> None:
        self.closed = True


Made = tuple[PlainLookups, FullClient]


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def lookups(registry: FakeRegistry) -> Iterator[Callable[..., Made]]:
    with serving(registry) as url:

        def make(prefix: str | None = "app-", basic_auth: str | None = None) -> Made:
            full = FullClient()
            settings = RegistrySettings([url], basic_auth=basic_auth)
            plain = PlainLookups(settings, lambda: _as_registry(full), subject_prefix=prefix)
            return plain, full

        yield make


def _as_registry(full: FullClient) -> ClosableRegistry:
    return full  # type: ignore[return-value]  # the calls these tests make are all it has


def test_a_listed_schema_is_found_from_one_request(
    lookups: Callable[..., Made], registry: FakeRegistry
) -> None:
    registry.answers[("GET", "/schemas?")] = (200, [
        {"subject": "app-Ping-value", "version": 3, "id": 7, "schema": STORED},
        {"subject": "app-Other-value", "version": 1, "id": 8, "schema": SCHEMA},
    ])  # fmt: skip
    plain, full = lookups()
    assert plain.lookup("app-Ping-value", SCHEMA) == RegisteredSchema("app-Ping-value", 3, 7,
                                                                       SCHEMA)  # fmt: skip
    assert plain.lookup("app-Other-value", SCHEMA) is not None
    assert [a[:2] for a in registry.asked] == [
        ("GET", "/schemas?subjectPrefix=app-&latestOnly=true")
    ]
    assert full.calls == []


def test_a_schema_not_listed_is_looked_up_as_confluent_does(
    lookups: Callable[..., Made], registry: FakeRegistry
) -> None:
    registry.answers[("GET", "/schemas?")] = (200, [
        {"subject": "app-Ping-value", "version": 1, "id": 1, "schema": '"string"'},
    ])  # fmt: skip
    registry.answers[("POST", "/subjects/app-Ping-value")] = (200, {"id": 5, "version": 2})
    plain, full = lookups()
    assert plain.lookup("app-Ping-value", SCHEMA) == RegisteredSchema("app-Ping-value", 2, 5,
                                                                       SCHEMA)  # fmt: skip
    assert plain.lookup("app-Gone-value", SCHEMA) is None  # 404 with the registry's JSON
    assert registry.asked[1][:2] == (
        "POST", "/subjects/app-Ping-value?normalize=False&deleted=False"
    )  # fmt: skip
    assert full.calls == []


def test_without_a_prefix_nothing_is_listed(
    lookups: Callable[..., Made], registry: FakeRegistry
) -> None:
    registry.answers[("POST", "/subjects/")] = (200, {"id": 5, "version": 2})
    plain, _ = lookups(prefix=None)
    assert plain.lookup("app-Ping-value", SCHEMA) is not None
    assert [a[0] for a in registry.asked] == ["POST"]


def test_basic_auth_is_sent(lookups: Callable[..., Made], registry: FakeRegistry) -> None:
    plain, _ = lookups(prefix=None, basic_auth="alice:s3cret")
    plain.lookup("app-Ping-value", SCHEMA)
    assert registry.asked[0][2] == "Basic YWxpY2U6czNjcmV0"


def test_a_refusal_is_raised_in_the_full_clients_words_without_asking_again(
    lookups: Callable[..., Made], registry: FakeRegistry
) -> None:
    registry.answers[("POST", "/subjects/")] = (401, {"error_code": 40101,
                                                      "message": "Unauthorized"})  # fmt: skip
    plain, full = lookups(prefix=None)
    with pytest.raises(RegistryUnauthorizedError) as caught:
        plain.lookup("app-Ping-value", SCHEMA)
    expected = error_for("look up app-Ping-value", registry.url, 401, 40101, "Unauthorized")
    assert str(caught.value) == str(expected)
    assert full.calls == [] and len(registry.asked) == 1


@pytest.mark.parametrize(
    "answer",
    [
        (500, {"error_code": 50001, "message": "boom"}),  # retried by the full client
        (404, "<html>not here</html>"),  # not a registry's answer
        (200, "not json"),
        (200, {"version": 1}),  # no id
        (401, {"message": "no error code"}),
    ],
    ids=["retried-status", "html-404", "not-json", "no-id", "no-error-code"],
)
def test_anything_unusual_goes_to_the_full_client(
    answer: Answer, lookups: Callable[..., Made], registry: FakeRegistry
) -> None:
    registry.answers[("GET", "/schemas?")] = answer
    registry.answers[("POST", "/subjects/")] = answer
    registry.answers[("GET", "/schemas/ids/")] = answer
    plain, full = lookups()
    assert plain.lookup("app-Ping-value", SCHEMA) == RegisteredSchema("app-Ping-value", 9, 99,
                                                                       SCHEMA)  # fmt: skip
    assert plain.get_schema(4) == "from the full client"
    assert full.calls == [("lookup", ("app-Ping-value",)), ("get_schema", (4,))]
    plain.close()
    assert full.closed


def test_an_unreachable_registry_goes_to_the_full_client() -> None:
    full = FullClient()
    settings = RegistrySettings(["http://127.0.0.1:1"], timeout_s=2.0)
    plain = PlainLookups(settings, lambda: _as_registry(full), subject_prefix="app-")
    assert plain.lookup("app-Ping-value", SCHEMA) is not None
    assert full.calls == [("lookup", ("app-Ping-value",))]


def test_a_schema_by_id_and_every_other_call(
    lookups: Callable[..., Made], registry: FakeRegistry
) -> None:
    registry.answers[("GET", "/schemas/ids/4")] = (200, {"schema": SCHEMA})
    plain, full = lookups()
    assert plain.get_schema(4) == SCHEMA
    assert full.calls == []
    assert plain.get_subjects() == ["s"]  # not a look-up: the full client's
    assert full.calls == [("get_subjects", ())]


@pytest.mark.parametrize(
    ("settings", "environ", "plain"),
    [
        (RegistrySettings(["localhost:8081"]), {}, True),
        (RegistrySettings(["http://h:1,http://h:2"], basic_auth="a:b"), {}, True),
        (RegistrySettings(["https://h:1"]), {}, False),
        (RegistrySettings(["http://u:p@h:1"]), {}, False),
        (RegistrySettings(["http://h:1"], bearer_token="t"), {}, False),
        (RegistrySettings(["http://h:1"], ca_location="/ca.pem"), {}, False),
        (RegistrySettings(["http://h:1"]), {"HTTP_PROXY": "http://proxy:3128"}, False),
        (RegistrySettings(["http://h:1"]), {"all_proxy": "socks5://proxy:1080"}, False),
        (RegistrySettings(["http://h:1"]), {"HTTPS_PROXY": "http://proxy:3128"}, True),
    ],
    ids=[
        "scheme-less",
        "fail-over-and-auth",
        "https",
        "credentials-in-url",
        "bearer",
        "tls",
        "http-proxy",
        "all-proxy",
        "https-proxy-only",
    ],
)
def test_which_settings_the_plain_path_takes(
    settings: RegistrySettings, environ: dict[str, str], plain: bool
) -> None:
    assert plain_http(settings, environ) is plain


def test_settings_the_full_client_refuses_are_refused_in_its_words() -> None:
    with pytest.raises(RegistryError, match="^invalid schema registry settings: basic auth"):
        one_shot_registry(RegistrySettings(["http://h:1"], basic_auth="no-colon"))


def test_the_collector_is_paused_and_restored_and_nothing_frozen_in_process() -> None:
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    with gc_pause.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
