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
