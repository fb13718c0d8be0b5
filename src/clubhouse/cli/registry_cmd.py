"""``clubhouse registry``: serve the embedded schema registry, back it up and restore it.

Exit codes CI can rely on: 0 success, 1 the operation failed (the registry refused it),
2 bad configuration or the registry could not be reached.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn

import click

from clubhouse.logging_setup import LogFormat, configure_logging

EXIT_FAILED = 1
EXIT_CONFIG = 2


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group("registry")
def registry() -> None:
    """The embedded Confluent-compatible Schema Registry.

    \b
    Examples:
      clubhouse registry serve                       # 127.0.0.1:8081, .clubhouse/registry.db
      clubhouse registry serve --port 0 --db /tmp/r.db
      clubhouse registry export --url http://localhost:8081 > backup.json
      clubhouse registry import --url http://localhost:8081 < backup.json
    """


@registry.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8081,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0 picks a free one; the log line shows it).",
)
@click.option(
    "--db",
    "db",
    default=".clubhouse/registry.db",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite database file.",
)
@click.option(
    "--basic-auth-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Require HTTP basic auth; one 'user:$scrypt$...' line per user "
    "(see 'clubhouse registry hash-password'). $CLUBHOUSE_REGISTRY_BASIC_AUTH works too.",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --host without authentication (trusted networks only).",
)
@click.option(
    "--max-body-bytes",
    default=4 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1024),
    help="Largest request body accepted; bigger ones get HTTP 413.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def serve(
    *,
    host: str,
    port: int,
    db: Path,
    basic_auth_file: Path | None,
    allow_remote: bool,
    max_body_bytes: int,
    log_format: LogFormat,
) -> None:
    """Serve the registry until SIGINT or SIGTERM.

    \b
    Examples:
      clubhouse registry serve
      clubhouse registry serve --host 0.0.0.0 --basic-auth-file registry-users.txt
      python -m clubhouse.registry serve --host 127.0.0.1 --port 18081 --db /tmp/r.db
    """
    # Imported on use so `clubhouse --help` does not pay for uvicorn, starlette and avro.
    from clubhouse.registry.auth import AuthConfigError, load_credentials  # noqa: PLC0415
    from clubhouse.registry.server import (  # noqa: PLC0415
        ServerConfigError,
        ServerSettings,
    )
    from clubhouse.registry.server import serve as run_server  # noqa: PLC0415

    configure_logging(logging.INFO, log_format)
    try:
        credentials = load_credentials(basic_auth_file, os.environ)
        run_server(
            ServerSettings(
                host=host,
                port=port,
                db=db,
                credentials=credentials,
                allow_remote=allow_remote,
                max_body_bytes=max_body_bytes,
            )
        )
    except (AuthConfigError, ServerConfigError) as exc:
        _fail(str(exc), EXIT_CONFIG)
    except (sqlite3.DatabaseError, OSError) as exc:
        _fail(f"Cannot use the registry database {db}: {exc}", EXIT_CONFIG)


@registry.command("hash-password")
@click.argument("user")
@click.password_option("--password", help="The password (prompted for, hidden, when omitted).")
def hash_password_cmd(user: str, password: str) -> None:
    """Print a 'USER:$scrypt$...' line for --basic-auth-file.

    \b
    Example:
      clubhouse registry hash-password alice >> registry-users.txt
    """
    from clubhouse.registry.auth import hash_password  # noqa: PLC0415

    if ":" in user or not user.strip():
        _fail("USER must be non-empty and must not contain ':'.", EXIT_CONFIG)
    click.echo(f"{user}:{hash_password(password)}")
