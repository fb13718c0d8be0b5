"""``clubhouse registry``: serve the embedded schema registry, back it up and restore it.

Exit codes CI can rely on: 0 success, 1 the operation failed (the registry refused it),
2 bad configuration or the registry could not be reached.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn, TextIO

import click
import httpx

from clubhouse.logging_setup import LogFormat, configure_logging

EXIT_FAILED = 1
EXIT_CONFIG = 2
MIN_PASSWORD_LENGTH = 8


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

    Exit codes: 0 success, 1 the registry refused the operation, 2 bad configuration or
    registry unreachable.
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
    "--max-header-bytes",
    default=16 * 1024,
    show_default=True,
    type=click.IntRange(1024),
    help="Largest request line plus headers; bigger ones get HTTP 431.",
)
@click.option(
    "--header-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds a client has to send a request's headers (from connect); then HTTP 408.",
)
@click.option(
    "--body-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds a client has to send a request's body; then HTTP 408.",
)
@click.option(
    "--keep-alive-timeout",
    default=5,
    show_default=True,
    type=click.IntRange(1),
    help="Seconds an idle keep-alive connection stays open.",
)
@click.option(
    "--max-connections",
    default=1000,
    show_default=True,
    type=click.IntRange(1),
    help="Open connections at most (lowered to fit the open-file limit); more get HTTP 503.",
)
@click.option(
    "--max-in-flight",
    default=256,
    show_default=True,
    type=click.IntRange(1),
    help="Requests served at once at most; more get HTTP 503 at once rather than queueing.",
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
    max_header_bytes: int,
    header_timeout: float,
    body_timeout: float,
    keep_alive_timeout: int,
    max_connections: int,
    max_in_flight: int,
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
    from clubhouse.registry.protocol import ConnectionLimits  # noqa: PLC0415
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
                limits=ConnectionLimits(
                    max_header_bytes=max_header_bytes,
                    header_timeout_s=header_timeout,
                    body_timeout_s=body_timeout,
                    max_connections=max_connections,
                ),
                keep_alive_timeout_s=keep_alive_timeout,
                max_in_flight=max_in_flight,
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

    An empty password is refused (exit 2); one under 8 characters is hashed with a warning.

    \b
    Example:
      clubhouse registry hash-password alice >> registry-users.txt
    """
    from clubhouse.registry.auth import hash_password  # noqa: PLC0415

    if ":" in user or not user.strip():
        _fail("USER must be non-empty and must not contain ':'.", EXIT_CONFIG)
    if not password:
        _fail("The password is empty; choose one of at least 8 characters.", EXIT_CONFIG)
    if len(password) < MIN_PASSWORD_LENGTH:
        click.echo(
            f"Warning: the password has {len(password)} characters; use at least "
            f"{MIN_PASSWORD_LENGTH}.",
            err=True,
        )
    click.echo(f"{user}:{hash_password(password)}")


def _client(url: str, user_info: str | None) -> httpx.Client:
    auth = None
    if user_info:
        user, sep, password = user_info.partition(":")
        if not sep:
            _fail("--user-info must look like USER:PASSWORD.", EXIT_CONFIG)
        auth = httpx.BasicAuth(user, password)
    try:
        return httpx.Client(base_url=url, auth=auth, timeout=30.0)
    except (httpx.InvalidURL, ValueError) as exc:
        _fail(f"Invalid --url: {exc}", EXIT_CONFIG)


_URL_OPTION = click.option(
    "--url",
    required=True,
    envvar="CLUBHOUSE_SCHEMA_REGISTRY_URL",
    help="Registry base URL (Clubhouse's or Confluent's). $CLUBHOUSE_SCHEMA_REGISTRY_URL works.",
)
_USER_INFO_OPTION = click.option(
    "--user-info",
    envvar="CLUBHOUSE_REGISTRY_USER_INFO",
    help="USER:PASSWORD for basic auth (prefer $CLUBHOUSE_REGISTRY_USER_INFO: it stays out "
    "of the process list).",
)


@registry.command("export")
@_URL_OPTION
@_USER_INFO_OPTION
def export_cmd(url: str, user_info: str | None) -> None:
    """Write a JSON backup of a registry to stdout.

    Covers every subject and version (soft-deleted ones too), ids, schemas, references,
    compatibility levels and modes. Uses only the REST API, so it works with Confluent
    Schema Registry as well.

    \b
    Examples:
      clubhouse registry export --url http://localhost:8081 > backup.json
      CLUBHOUSE_REGISTRY_USER_INFO=alice:secret clubhouse registry export --url https://sr > b.json
    """
    from clubhouse.registry import backup  # noqa: PLC0415 (see serve)

    with _client(url, user_info) as client:
        try:
            document = backup.export_registry(backup.RegistryHttp(client))
        except backup.RegistryUnreachable as exc:
            _fail(str(exc), EXIT_CONFIG)
        except backup.BackupError as exc:
            _fail(str(exc), EXIT_FAILED)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    versions = sum(len(s["versions"]) for s in document["subjects"])
    click.echo(
        f"Exported {len(document['subjects'])} subjects, {versions} versions from "
        f"{backup.redact(url)}.",
        err=True,
    )


@registry.command("import")
@_URL_OPTION
@_USER_INFO_OPTION
@click.option(
    "--input",
    "source",
    type=click.File("r", encoding="utf-8"),
    default="-",
    show_default=True,
    help="Backup file ('-' reads stdin).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Import even if the target already holds schemas (ids may then collide).",
)
def import_cmd(url: str, user_info: str | None, source: TextIO, force: bool) -> None:
    """Restore a JSON backup (from 'export') into a registry, keeping ids and versions.

    The target is switched to IMPORT mode for the restore and ends in the backup's global
    mode. A non-empty target is refused unless --force is given.

    \b
    Examples:
      clubhouse registry import --url http://localhost:8081 < backup.json
      clubhouse registry import --url http://localhost:8081 --input backup.json --force
    """
    from clubhouse.registry import backup  # noqa: PLC0415 (see serve)

    try:
        document = json.load(source)
    except ValueError as exc:
        _fail(f"The backup is not valid JSON: {exc}", EXIT_CONFIG)
    with _client(url, user_info) as client:
        try:
            report = backup.import_registry(backup.RegistryHttp(client), document, force=force)
        except (backup.RegistryUnreachable, backup.BackupFormatError) as exc:
            _fail(str(exc), EXIT_CONFIG)
        except backup.RegistryRefused as exc:
            hint = ""
            if exc.error_code == 42205 and not force:
                hint = " (the target is not empty; pass --force to import into it anyway)"
            _fail(f"{exc}{hint}", EXIT_FAILED)
        except backup.BackupError as exc:
            _fail(str(exc), EXIT_FAILED)
    click.echo(
        f"Imported {report.subjects} subjects, {report.versions} versions "
        f"({report.soft_deleted} soft-deleted), {report.configs} subject configs and "
        f"{report.modes} subject modes into {backup.redact(url)}.",
        err=True,
    )
