"""Hashed basic-auth credentials and the middleware that enforces them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

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
from clubhouse.registry.verified import VerifiedLogins

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
    key = ("10.0.0.1", "alice")
    for _ in range(3):
        assert throttle.retry_after(key) == 0
        throttle.failed(key)
    assert throttle.retry_after(key) == pytest.approx(10.0)
    assert throttle.retry_after(("10.0.0.2", "alice")) == 0  # another address is not affected
    now[0] += 10.5
    assert throttle.retry_after(key) == 0  # the failures left the window
    throttle.failed(key)
    throttle.succeeded(key)
    assert throttle.retry_after(key) == 0


def test_the_throttle_forgets_the_oldest_key_past_its_table_size() -> None:
    throttle = LoginThrottle(max_failures=1, window_s=60.0, max_keys=2)
    for address in ("a", "b", "c"):
        throttle.failed((address, "u"))
    assert throttle.retry_after(("a", "u")) == 0
    assert throttle.retry_after(("b", "u")) > 0 and throttle.retry_after(("c", "u")) > 0


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


# ---- finding: a flood of wrong passwords must not lock out a correct one -------------------

BOB = f"bob:{hash_password('b0bpass', log2_n=4)}"


def from_address(app: ASGIApp, address: str) -> ASGIApp:
    """``app`` as if every request came from ``address`` (TestClient always says testclient)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "client": (address, 40000)}
        await app(scope, receive, send)

    return wrapped


def test_a_flood_against_another_user_from_the_same_address_does_not_lock_out_a_correct_login(
    registry: Registry,
) -> None:
    auth = BasicAuth(parse_credentials(f"{ALICE}\n{BOB}", "test"))
    app = from_address(create_app(registry, auth=auth), "203.0.113.7")  # one NAT for everyone
    with TestClient(app) as client:
        flood = [client.get("/subjects", auth=("bob", f"guess{n}")).status_code for n in range(15)]
        assert flood[-1] == 429  # bob's name is throttled at that address...
        # ...and alice, never seen before, behind the same address is served.
        assert client.get("/subjects", auth=("alice", "s3cret")).status_code == 200
        flood = [client.get("/subjects", auth=("nobody", f"g{n}")).status_code for n in range(15)]
        assert flood[-1] == 429
        assert client.get("/subjects", auth=("alice", "s3cret")).status_code == 200


def test_a_flood_against_a_user_from_elsewhere_does_not_lock_that_user_out(
    registry: Registry,
) -> None:
    auth = BasicAuth(parse_credentials(ALICE, "test"))
    throttle = LoginThrottle()
    app = create_app(registry, auth=auth, throttle=throttle)
    with TestClient(from_address(app, "198.51.100.9")) as attacker:
        flood = [attacker.get("/subjects", auth=("alice", f"x{n}")).status_code for n in range(15)]
        assert set(flood[10:]) == {429}
    with TestClient(from_address(app, "192.0.2.1")) as alice:
        assert alice.get("/subjects", auth=("alice", "s3cret")).status_code == 200


def test_a_verified_login_is_accepted_during_a_flood_on_its_own_name_from_its_own_address(
    registry: Registry,
) -> None:
    now = [1000.0]
    cache = VerifiedLogins(ttl_s=60.0, clock=lambda: now[0])
    auth = BasicAuth(parse_credentials(ALICE, "test"), cache=cache)
    app = from_address(create_app(registry, auth=auth), "203.0.113.7")
    with TestClient(app) as client:
        assert client.get("/subjects", auth=("alice", "s3cret")).status_code == 200
        flood = [client.get("/subjects", auth=("alice", f"x{n}")).status_code for n in range(15)]
        assert set(flood[10:]) == {429}
        # In use, the verified login stays accepted from the cache, past the TTL too.
        for _ in range(3):
            now[0] += 50.0
            assert client.get("/subjects", auth=("alice", "s3cret")).status_code == 200


def test_verified_logins_expire_after_their_ttl_and_then_need_scrypt_again() -> None:
    now = [0.0]
    cache = VerifiedLogins(ttl_s=60.0, clock=lambda: now[0])
    auth = BasicAuth(parse_credentials(ALICE, "test"), cache=cache)
    good = header("alice", "s3cret")
    assert auth.verify(good) == "alice"
    now[0] += 59.0
    assert auth.cached(good) == "alice"
    now[0] += 59.0  # idle less than the TTL since the last use: still there
    assert auth.cached(good) == "alice"
    now[0] += 61.0
    assert auth.cached(good) is None
    assert auth.verify(good) == "alice"


def test_the_verified_cache_is_bounded_keyed_by_user_and_never_holds_the_password() -> None:
    cache = VerifiedLogins(max_entries=2)
    cache.add("alice", "pw-a")
    cache.add("bob", "pw-b")
    assert cache.contains("alice", "pw-a")
    assert not cache.contains("bob", "pw-a")  # another user's secret is not a match
    assert not cache.contains("alice", "pw-b")
    cache.add("carol", "pw-c")  # alice was used last, so bob goes
    assert not cache.contains("bob", "pw-b")
    assert cache.contains("alice", "pw-a") and cache.contains("carol", "pw-c")
    assert len(cache) == 2
    stored = repr(vars(cache)).encode()
    for secret in (b"pw-a", b"pw-c"):
        assert secret not in stored
        assert secret.hex().encode() not in stored


def test_the_throttle_counts_failures_per_address_and_user() -> None:
    throttle = LoginThrottle(max_failures=2, window_s=60.0)
    for _ in range(2):
        throttle.failed(("10.0.0.1", "bob"))
    assert throttle.retry_after(("10.0.0.1", "bob")) > 0
    assert throttle.retry_after(("10.0.0.1", "alice")) == 0
    assert throttle.retry_after(("10.0.0.2", "bob")) == 0
    # A success takes back only its own attempt, not the failures of others.
    throttle.failed(("10.0.0.1", "alice"))
    throttle.failed(("10.0.0.1", "alice"))
    throttle.succeeded(("10.0.0.1", "alice"))
    assert throttle.retry_after(("10.0.0.1", "alice")) == 0
    throttle.failed(("10.0.0.1", "alice"))
    assert throttle.retry_after(("10.0.0.1", "alice")) > 0
