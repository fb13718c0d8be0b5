"""Optional HTTP basic auth for the registry, with scrypt-hashed credentials.

Credentials are ``user:hash`` entries, where the hash is a PHC-style scrypt string made by
:func:`hash_password` (``clubhouse registry hash-password``). They come from a file (one entry
a line, ``#`` comments) or from the ``CLUBHOUSE_REGISTRY_BASIC_AUTH`` environment variable
(entries separated by whitespace). Plain passwords are never stored or logged.

scrypt is deliberately slow (and takes 16 MB a run), so:

* a successful check is remembered for a short while (:mod:`clubhouse.registry.verified`)
  as a keyed digest of the user and secret; later requests with the same credentials cost
  one HMAC instead of one scrypt, and are let in without asking the login throttle;
* scrypt runs in a small pool of its own with a bounded queue (503 past it), apart from the
  database's threads, so a flood of logins neither grows memory nor delays writes;
* failed logins are throttled per client address and user name (429 with Retry-After),
  before scrypt (:mod:`clubhouse.registry.throttle`). Failures at one name never refuse
  another user, even behind the same address, nor a login verified within the cache's TTL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import math
import secrets
from collections.abc import Mapping
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from clubhouse.errors import ClubhouseError
from clubhouse.registry.errors import ErrorCode
from clubhouse.registry.guards import send_error
from clubhouse.registry.throttle import LoginThrottle
from clubhouse.registry.verified import VerifiedLogins
from clubhouse.registry.workers import BoundedPool, PoolBusy

log = logging.getLogger(__name__)

ENV_VAR = "CLUBHOUSE_REGISTRY_BASIC_AUTH"
_SCHEME = "$scrypt$"
_DEFAULT_LOG2_N = 14
_R = 8
_P = 1
_KEY_LEN = 32
_MAXMEM = 64 * 1024 * 1024
SCRYPT_WORKERS = 1
SCRYPT_MAX_PENDING = 64


class AuthConfigError(ClubhouseError):
    """The credentials file or variable cannot be used; the message says where and why."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def hash_password(password: str, *, log2_n: int = _DEFAULT_LOG2_N) -> str:
    """A salted scrypt hash of ``password`` in PHC form: ``$scrypt$ln=14,r=8,p=1$salt$hash``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=2**log2_n, r=_R, p=_P, maxmem=_MAXMEM, dklen=_KEY_LEN
    )
    return f"{_SCHEME}ln={log2_n},r={_R},p={_P}${_b64(salt)}${_b64(digest)}"


def _parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    if not encoded.startswith(_SCHEME):
        raise ValueError("the hash does not start with $scrypt$")
    params, salt, digest = encoded[len(_SCHEME) :].split("$")
    values = dict(item.split("=", 1) for item in params.split(","))
    return int(values["ln"]), int(values["r"]), int(values["p"]), _unb64(salt), _unb64(digest)


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded`` (constant-time comparison of the digests)."""
    log2_n, r, p, salt, expected = _parse_hash(encoded)
    actual = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=2**log2_n,
        r=r,
        p=p,
        maxmem=_MAXMEM,
        dklen=len(expected),
    )
    return hmac.compare_digest(actual, expected)


def parse_credentials(text: str, source: str, *, split_whitespace: bool = False) -> dict[str, str]:
    """``user:hash`` entries from ``text``; ``source`` names where they came from in errors."""
    entries: dict[str, str] = {}
    lines = text.split() if split_whitespace else text.splitlines()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, encoded = line.partition(":")
        where = f"{source} entry {number}" if split_whitespace else f"{source} line {number}"
        if not sep or not user:
            raise AuthConfigError(f"{where}: expected 'user:$scrypt$...', got no 'user:' part.")
        try:
            _parse_hash(encoded)
        except (ValueError, KeyError, binascii.Error) as exc:
            raise AuthConfigError(
                f"{where}: the hash for user '{user}' is not a scrypt hash made by "
                f"'clubhouse registry hash-password' ({exc})."
            ) from None
        if user in entries:
            raise AuthConfigError(f"{where}: user '{user}' appears twice.")
        entries[user] = encoded
    if not entries:
        raise AuthConfigError(f"{source} holds no credentials.")
    return entries


def load_credentials(path: Path | None, environ: Mapping[str, str]) -> dict[str, str] | None:
    """Credentials from ``path``, else from ``$CLUBHOUSE_REGISTRY_BASIC_AUTH``, else None."""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AuthConfigError(
                f"Cannot read the basic-auth file {path}: {exc.strerror}."
            ) from None
        return parse_credentials(text, str(path))
    value = environ.get(ENV_VAR)
    if value:
        return parse_credentials(value, f"${ENV_VAR}", split_whitespace=True)
    return None


def presented_login(header: str) -> tuple[str, str] | None:
    """The (user, password) an ``Authorization: Basic`` header carries, or None if malformed."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except ValueError:  # not base64 (non-ASCII bytes included), or not UTF-8 inside
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


class BasicAuth:
    """Checks ``Authorization: Basic`` headers against hashed credentials."""

    def __init__(
        self, credentials: Mapping[str, str], *, cache: VerifiedLogins | None = None
    ) -> None:
        self._credentials = dict(credentials)
        self._verified = cache if cache is not None else VerifiedLogins()
        # Unknown users are checked against this too, so timing does not reveal who exists.
        self._decoy = hash_password(secrets.token_urlsafe(16))

    def cached(self, header: str) -> str | None:
        """The user a recently verified ``header`` belongs to, without running scrypt."""
        login = presented_login(header)
        if login is None or not self._verified.contains(*login):
            return None
        return login[0]

    def verify(self, header: str) -> str | None:
        """The authenticated user for ``header``, or None; slow (scrypt) on a cache miss."""
        login = presented_login(header)
        if login is None:
            return None
        user, password = login
        encoded = self._credentials.get(user)
        ok = verify_password(password, encoded or self._decoy) and encoded is not None
        if not ok:
            return None
        self._verified.add(user, password)
        return user


def scrypt_pool() -> BoundedPool:
    """The pool password checks run in: one thread, so 16 MB of scrypt at a time at most.

    Successes are cached, so only new clients and wrong passwords reach it; one thread keeps
    a flood of those to one core, leaving the other cores to the database and parsing.
    """
    return BoundedPool("scrypt", max_workers=SCRYPT_WORKERS, max_pending=SCRYPT_MAX_PENDING)


_UNAUTHORIZED = "Unauthorized: valid basic-auth credentials are required."
_CHALLENGE = (b"www-authenticate", b'Basic realm="clubhouse-registry"')


class BasicAuthMiddleware:
    """ASGI middleware answering 401 to every HTTP request without valid credentials.

    Refusals are logged at DEBUG: a flood of them must not become a flood of log lines.
    """

    def __init__(
        self,
        app: ASGIApp,
        auth: BasicAuth,
        *,
        pool: BoundedPool | None = None,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._app = app
        self._auth = auth
        self._pool = pool or scrypt_pool()
        self._throttle = throttle or LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        header = ""
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        client = (scope.get("client") or ("?",))[0]
        login = presented_login(header) if header else None
        user = self._auth.cached(header) if login is not None else None
        if user is None and login is not None:
            key = (client, login[0])
            wait = self._throttle.retry_after(key)
            if wait > 0:
                log.debug("registry login throttled", extra={"client": client})
                await send_error(
                    send,
                    429,
                    429,
                    f"Too many failed logins for this user from {client}; retry in "
                    f"{math.ceil(wait)} s.",
                    [(b"retry-after", str(math.ceil(wait)).encode("ascii"))],
                )
                return
            # Counted as a failure before scrypt runs, so concurrent guesses cannot all slip
            # past the throttle while the first ones are still being checked.
            self._throttle.failed(key)
            try:
                user = await self._pool.run(self._auth.verify, header)
            except PoolBusy as exc:
                await send_error(
                    send, exc.status, exc.error_code, exc.message, [(b"retry-after", b"1")]
                )
                return
            if user is not None:
                self._throttle.succeeded(key)
        if user is None:
            log.debug(
                "registry request refused: missing or invalid credentials", extra={"client": client}
            )
            await send_error(send, 401, ErrorCode.UNAUTHORIZED, _UNAUTHORIZED, [_CHALLENGE])
            return
        scope.setdefault("state", {})["user"] = user
        await self._app(scope, receive, send)
