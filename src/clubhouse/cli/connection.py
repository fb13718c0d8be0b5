"""Where the broker and registry are: a flag, else its environment variable, else a dev stack.

Click reads every environment variable (``envvar=`` on the option); nothing here reads
``os.environ`` again, so a value has one way in and its source can be named in messages.
``clubhouse dev`` writes ``.clubhouse/dev.env`` while it runs and holds ``dev.lock``; the
tools find it from the same directory with no flags at all, and tell a stale file (the
stack was killed) from a live one by the lock.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from clubhouse.cli.dev_lock import lock_holder

if TYPE_CHECKING:
    from clubhouse.services.registry_settings import RegistrySettings

DEV_DIR = Path(".clubhouse")
DEV_ENV_FILE = DEV_DIR / "dev.env"
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
REGISTRY_ENV = "SCHEMA_REGISTRY_URL"
# Kafka's own tools, and the original Clubhouse, assume this broker when none is named.
DEFAULT_BOOTSTRAP = "localhost:9092"


DEV_APP_ENV = "CLUBHOUSE_DEV_APP"  # in dev.env: the --app the dev stack serves, if any


def write_dev_env(path: Path, env: Mapping[str, str]) -> None:
    """Record a running stack's variables as ``export`` lines a shell can ``source``."""
    from clubhouse.devstack.runner import format_env  # noqa: PLC0415 - keeps --help light

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_env(env))


def read_dev_env(path: Path = DEV_ENV_FILE) -> dict[str, str]:
    """The variables a ``clubhouse dev`` recorded in ``path``, or an empty dict."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    found: dict[str, str] = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            found[name] = value
    return found


@dataclass(frozen=True, slots=True)
class DevStackEnv:
    """What ``dev.env`` in a data dir says, and whether the stack that wrote it still runs."""

    path: Path
    env: Mapping[str, str]
    running: bool

    @property
    def stale_hint(self) -> str:
        """What to tell the user about this leftover file of a dev stack no longer running."""
        return (
            f"{self.path} is left over from a dev stack that is no longer running (killed?); "
            f"start `clubhouse dev` again, or delete {self.path}"
        )


def find_dev_stack(data_dir: Path = DEV_DIR) -> DevStackEnv | None:
    """The dev stack recorded under ``data_dir``, or None when there is no ``dev.env``."""
    path = data_dir / DEV_ENV_FILE.name
    env = read_dev_env(path)
    if not env:
        return None
    return DevStackEnv(path, env, running=lock_holder(data_dir) is not None)


@dataclass(frozen=True, slots=True)
class RegistryOptions:
    """The registry flags of one command, typed; ``source`` says what named the URL."""

    url: str | None = None
    source: str = ""
    basic_auth: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    bearer_logical_cluster: str = ""
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    timeout_s: float = 10.0
    wait_s: float = 0.0
    stale_dev_stack: DevStackEnv | None = None

    def missing_message(self) -> str:
        """The error for no schema registry given, with a hint about a stale dev stack."""
        message = (
            "no schema registry given: pass --schema-registry-url URL (or --url), set "
            f"{REGISTRY_ENV}, or start `clubhouse dev` in this directory"
        )
        if self.stale_dev_stack is not None:
            message += f". {self.stale_dev_stack.stale_hint}"
        return message

    def settings(self) -> RegistrySettings:
        """RegistrySettings for these options; the URL must have been given."""
        from clubhouse.services.registry_settings import RegistrySettings  # noqa: PLC0415 - slow

        if not self.url:
            raise ValueError(self.missing_message())
        return RegistrySettings(
            urls=[u.strip() for u in self.url.split(",") if u.strip()],
            basic_auth=self.basic_auth,
            bearer_token=self.bearer_token,
            bearer_logical_cluster=self.bearer_logical_cluster,
            ca_location=self.ca,
            certificate_location=self.cert,
            key_location=self.key,
            timeout_s=self.timeout_s,
        )


@dataclass(frozen=True, slots=True)
class BrokerOptions:
    """The broker of one command; ``source`` says what named it, for logs and errors."""

    bootstrap_servers: str | None = None
    source: str = ""

    def or_default(self) -> BrokerOptions:
        """These options, or ``localhost:9092`` (Kafka's default) when no broker was named."""
        if self.bootstrap_servers:
            return self
        return BrokerOptions(DEFAULT_BOOTSTRAP, "default")

    def why(self) -> str:
        """Why this broker is used, in words for a log line or an error."""
        if self.source == "default":
            return (
                f"no --bootstrap-servers and no {BOOTSTRAP_ENV}; {DEFAULT_BOOTSTRAP} is Kafka's "
                "default"
            )
        return f"from {self.source}"
