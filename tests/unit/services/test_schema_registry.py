"""ConfluentSchemaRegistry's settings, error mapping and start-up wait, without a server."""

from __future__ import annotations

import pytest

from clubhouse.services.registry_errors import (
    IncompatibleSchemaError,
    InvalidSchemaError,
    NotFoundError,
    RegistryError,
    RegistryUnauthorizedError,
    RegistryUnreachableError,
    error_for,
)
from clubhouse.services.registry_urls import redact_url
from clubhouse.services.schema_registry import (
    ConfluentSchemaRegistry,
    RegistrySettings,
    wait_for_registry,
)
from tests.fakes.registry import FakeRegistry


def test_settings_map_to_client_config() -> None:
    settings = RegistrySettings(
        urls=["https://a:8081", "https://b:8081"],
        basic_auth="ci:s3cret",
        ca_location="/ca.pem",
        certificate_location="/c.pem",
        key_location="/k.pem",
        timeout_s=3,
        max_retries=5,
    )
    conf = settings.client_config()
    assert conf["url"] == "https://a:8081,https://b:8081"
    assert conf["basic.auth.user.info"] == "ci:s3cret"
    assert conf["ssl.ca.location"] == "/ca.pem"
    assert conf["ssl.certificate.location"] == "/c.pem"
    assert conf["ssl.key.location"] == "/k.pem"
    assert (conf["timeout"], conf["max.retries"]) == (3, 5)
    assert "s3cret" not in repr(settings)


def test_bearer_token_config() -> None:
    conf = RegistrySettings(urls=["http://x"], bearer_token="tok").client_config()
    assert conf["bearer.auth.credentials.source"] == "STATIC_TOKEN"
    assert conf["bearer.auth.token"] == "tok"


def test_basic_auth_comes_from_the_environment_unless_given() -> None:
    env = {"SCHEMA_REGISTRY_BASIC_AUTH": "env:pw"}
    assert RegistrySettings.from_env("http://x", env).basic_auth == "env:pw"
    assert RegistrySettings.from_env("http://x", env, basic_auth="flag:pw").basic_auth == "flag:pw"
    assert RegistrySettings.from_env("http://a, http://b", {}).urls == ["http://a", "http://b"]


def test_malformed_basic_auth_is_a_registry_error() -> None:
    with pytest.raises(RegistryError, match="user:password"):
        ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=["http://x"], basic_auth="x"))
    with pytest.raises(RegistryError, match="Invalid url"):
        ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=["ftp://x"]))


def test_urls_are_redacted_for_display() -> None:
    assert redact_url("https://user:pw@sr.example:8081/x") == "https://***@sr.example:8081/x"
    assert redact_url("http://plain:8081") == "http://plain:8081"
    assert "pw" not in RegistrySettings(urls=["https://u:pw@h"]).display_url


@pytest.mark.parametrize(
    ("status", "kind", "hint"),
    [
        (401, RegistryUnauthorizedError, "unauthorized"),
        (403, RegistryUnauthorizedError, "unauthorized"),
        (404, NotFoundError, "not found"),
        (409, IncompatibleSchemaError, "clubhouse schemas check"),
        (422, InvalidSchemaError, "invalid"),
        (500, RegistryError, "failed"),
    ],
)
def test_registry_errors_map_to_typed_exceptions(
    status: int, kind: type[RegistryError], hint: str
) -> None:
    error = error_for("register s", "http://h:1", status, status * 100, "msg")
    assert type(error) is kind
    assert error.status == status
    assert hint in str(error)
    assert str(error).startswith("register s at http://h:1")


def test_unreachable_server_is_a_typed_error() -> None:
    settings = RegistrySettings(urls=["http://127.0.0.1:9"], max_retries=0, timeout_s=1)
    registry = ConfluentSchemaRegistry.from_settings(settings)
    with pytest.raises(RegistryUnreachableError, match="cannot reach the schema registry"):
        registry.get_subjects()


class _FlakyRegistry(FakeRegistry):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def get_subjects(self) -> list[str]:
        if self.failures:
            self.failures -= 1
            raise RegistryUnreachableError("refused")
        return []


def test_wait_for_registry_retries_until_it_answers() -> None:
    now = [0.0]
    registry = _FlakyRegistry(failures=3)
    wait_for_registry(
        registry, 10, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    assert registry.failures == 0
    assert now[0] == 1.5


def test_wait_for_registry_gives_up_after_the_budget() -> None:
    now = [0.0]
    registry = _FlakyRegistry(failures=100)
    with pytest.raises(RegistryUnreachableError):
        wait_for_registry(
            registry, 2, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
        )
    assert now[0] == 2.0


def test_as_a_context_manager_it_closes_its_connections() -> None:
    closed: list[bool] = []

    class Client:
        def close(self) -> None:
            closed.append(True)

    with ConfluentSchemaRegistry(Client()) as registry:  # type: ignore[arg-type]
        assert isinstance(registry, ConfluentSchemaRegistry)
        assert closed == []
    assert closed == [True]
