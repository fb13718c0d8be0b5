"""Hashed basic-auth credentials and the middleware that enforces them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from clubhouse.registry import Registry, create_app
from clubhouse.registry.auth import (
    ENV_VAR,
    AuthConfigError,
    BasicAuth,
    hash_password,
    load_credentials,
    parse_credentials,
    verify_password,
)
from clubhouse.registry.throttle import LoginThrottle

# A cheap work factor keeps the tests fast; production hashes use ln=14.
ALICE = f"alice:{hash_password('s3cret', log2_n=4)}"


def header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_hashes_are_salted_and_verify_only_the_right_password() -> None:
    first, second = hash_password("pw", log2_n=4), hash_password("pw", log2_n=4)
    assert first != second
    assert first.startswith("$scrypt$ln=4,r=8,p=1$")
    assert verify_password("pw", first)
    assert not verify_password("pW", first)


def test_credentials_parse_from_file_lines_and_env_entries(tmp_path: Path) -> None:
    bob = f"bob:{hash_password('x', log2_n=4)}"
    path = tmp_path / "users"
    path.write_text(f"# registry users\n{ALICE}\n\n{bob}\n")
    assert set(load_credentials(path, {}) or {}) == {"alice", "bob"}
    assert set(load_credentials(None, {ENV_VAR: f"{ALICE} {bob}"}) or {}) == {"alice", "bob"}
    assert load_credentials(None, {}) is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("alice", "no 'user:' part"),
        ("alice:plaintext", "not a scrypt hash"),
        (f"{ALICE}\n{ALICE}", "appears twice"),
        ("# nothing\n", "holds no credentials"),
    ],
)
def test_bad_credentials_name_the_line_and_never_echo_the_secret(text: str, fragment: str) -> None:
    with pytest.raises(AuthConfigError) as info:
        parse_credentials(text, "users.txt")
    assert fragment in str(info.value)
    assert "plaintext" not in str(info.value)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError, match="Cannot read"):
        load_credentials(tmp_path / "missing", {})


def test_basic_auth_checks_and_remembers_good_credentials() -> None:
    auth = BasicAuth(parse_credentials(ALICE, "test"))
    good = header("alice", "s3cret")
    assert auth.cached(good) is None
    assert auth.verify(good) == "alice"
    assert auth.cached(good) == "alice"
    assert auth.verify(header("alice", "wrong")) is None
    assert auth.verify(header("mallory", "s3cret")) is None
    assert auth.verify("Bearer abc") is None
    assert auth.verify("Basic !!!") is None
    assert auth.cached(header("alice", "wrong")) is None


def test_the_app_answers_401_without_credentials(registry: Registry) -> None:
    app = create_app(registry, auth=BasicAuth(parse_credentials(ALICE, "test")))
    with TestClient(app) as client:
        refused = client.get("/subjects")
        assert refused.status_code == 401
        assert refused.json()["error_code"] == 401
        assert refused.headers["www-authenticate"].startswith("Basic")
        assert client.get("/subjects", auth=("alice", "nope")).status_code == 401
        assert client.get("/subjects", auth=("alice", "s3cret")).json() == []


def test_a_non_ascii_basic_token_is_a_failed_login_not_a_crash() -> None:
    auth = BasicAuth(parse_credentials(ALICE, "test"))
    assert auth.verify("Basic \u00e9\u00e8\u00ff") is None
    assert auth.verify("Basic " + base64.b64encode(b"\xff\xfe:x").decode()) is None


def test_failed_logins_are_throttled_per_address_within_the_window() -> None:
    now = [100.0]
    throttle = LoginThrottle(max_failures=3, window_s=10.0, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1") == 0
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == pytest.approx(10.0)
    assert throttle.retry_after("10.0.0.2") == 0  # another address is not affected
    now[0] += 10.5
    assert throttle.retry_after("10.0.0.1") == 0  # the failures left the window
    throttle.failed("10.0.0.1")
    throttle.succeeded("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0


def test_the_throttle_forgets_the_oldest_address_past_its_table_size() -> None:
    throttle = LoginThrottle(max_failures=1, window_s=60.0, max_addresses=2)
    for address in ("a", "b", "c"):
        throttle.failed(address)
    assert throttle.retry_after("a") == 0
    assert throttle.retry_after("b") > 0 and throttle.retry_after("c") > 0


def test_the_app_answers_429_after_repeated_wrong_passwords_without_running_scrypt(
    registry: Registry,
) -> None:
    auth = BasicAuth(parse_credentials(ALICE, "test"))
    calls = []
    verify = auth.verify
    auth.verify = lambda h: calls.append(h) or verify(h)  # type: ignore[method-assign]
    app = create_app(registry, auth=auth)
    with TestClient(app) as client:
        assert client.get("/subjects", auth=("alice", "s3cret")).status_code == 200
        statuses = [client.get("/subjects", auth=("alice", f"x{n}")).status_code for n in range(15)]
        assert statuses[:10] == [401] * 10
        assert set(statuses[10:]) == {429}
        throttled = client.get("/subjects", auth=("alice", "again"))
        assert throttled.json()["error_code"] == 429
        assert int(throttled.headers["retry-after"]) >= 1
        assert len(calls) == 11  # one good login, ten failures; none once throttled
        # An already verified login still works from the same address.
        assert client.get("/subjects", auth=("alice", "s3cret")).status_code == 200
