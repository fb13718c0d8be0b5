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
from typing import TYPE_CHECKING, BinaryIO, NoReturn

import click

from clubhouse.cli.connection import RegistryOptions
from clubhouse.cli.options import registry_options, with_dev_stack
from clubhouse.logging_setup import LogFormat, configure_logging

if TYPE_CHECKING:
    from clubhouse.services.registry_http import RegistryHttp

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
    "--max-schema-fields",
    default=50_000,
    show_default=True,
    type=click.IntRange(1),
    help="Most record fields one request's schema may declare (nested records and "
    "references included); more get HTTP 413 before any parsing.",
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
    max_schema_fields: int,
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
      clubhouse registry serve --host 127.0.0.1 --port 18081 --db /tmp/r.db
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
                max_schema_fields=max_schema_fields,
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


def _backup_http(registry_options: RegistryOptions) -> RegistryHttp:
    """The backup client for the registry flags (or the dev stack running here)."""
    from clubhouse.services.registry_http import RegistryHttp  # noqa: PLC0415

    options = with_dev_stack(registry_options)
    if not options.url:
        _fail(options.missing_message(), EXIT_CONFIG)
    try:
        return RegistryHttp(options.settings())
    except (ValueError, OSError) as exc:
        _fail(f"invalid schema registry settings: {exc}", EXIT_CONFIG)


@registry.command("export")
@registry_options(required=False)
def export_cmd(registry: RegistryOptions) -> None:
    """Write a JSON backup of a registry to stdout.

    Covers every subject and version (soft-deleted ones too), ids, schemas, references,
    compatibility levels and modes. Uses only the REST API, so it works with Confluent
    Schema Registry as well.

    It takes the same connection flags as the other tools (basic auth, bearer token,
    TLS and mTLS), so a Confluent Cloud registry can be backed up too.

    \b
    Examples:
      clubhouse registry export --url http://localhost:8081 > backup.json
      SCHEMA_REGISTRY_BASIC_AUTH=alice:secret clubhouse registry export --url https://sr > b.json
    """
    from clubhouse.services import registry_backup as backup  # noqa: PLC0415 (see serve)
    from clubhouse.services.registry_errors import (  # noqa: PLC0415
        RegistryError,
        RegistryUnauthorizedError,
        RegistryUnreachableError,
    )

    with _backup_http(registry) as http:
        try:
            document = backup.export_registry(http)
        except (RegistryUnreachableError, RegistryUnauthorizedError) as exc:
            _fail(str(exc), EXIT_CONFIG)
        except (RegistryError, backup.BackupError) as exc:
            _fail(str(exc), EXIT_FAILED)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    versions = sum(len(s["versions"]) for s in document["subjects"])
    click.echo(
        f"Exported {len(document['subjects'])} subjects, {versions} versions from "
        f"{http.display_url}.",
        err=True,
    )


@registry.command("import")
@registry_options(required=False)
@click.option(
    "--input",
    "source",
    type=click.File("rb"),
    default="-",
    show_default=True,
    help="Backup file ('-' reads stdin).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Import even if the target already holds schemas (ids may then collide).",
)
def import_cmd(registry: RegistryOptions, source: BinaryIO, force: bool) -> None:
    """Restore a JSON backup (from 'export') into a registry, keeping ids and versions.

    All or nothing: the whole backup is read and checked before anything is written (a bad
    one exits 2 naming what is wrong and where), and if the registry refuses any part of it,
    everything already written is undone and the modes and configs are put back, so the
    retry needs no --force. The target is switched to IMPORT mode for the restore and ends
    in the backup's global mode. A non-empty target is refused unless --force is given.
    Schema ids must be at most 2147483646, so that the registry keeps an id for the next
    schema registered after the import.

    \b
    Examples:
      clubhouse registry import --url http://localhost:8081 < backup.json
      clubhouse registry import --url http://localhost:8081 --input backup.json --force
    """
    from clubhouse.services import registry_backup as backup  # noqa: PLC0415 (see serve)
    from clubhouse.services.registry_backup_reader import read_backup  # noqa: PLC0415
    from clubhouse.services.registry_errors import (  # noqa: PLC0415
        RegistryError,
        RegistryUnauthorizedError,
        RegistryUnreachableError,
    )
    from clubhouse.services.registry_restore import (  # noqa: PLC0415
        ImportUndone,
        import_registry,
    )

    unusable = (RegistryUnreachableError, RegistryUnauthorizedError)
    try:
        document = read_backup(source)
    except backup.BackupFormatError as exc:
        _fail(str(exc), EXIT_CONFIG)
    with _backup_http(registry) as http:
        try:
            report = import_registry(http, document, force=force)
        except unusable as exc:
            _fail(str(exc), EXIT_CONFIG)
        except ImportUndone as exc:
            _fail(str(exc), EXIT_CONFIG if isinstance(exc.cause, unusable) else EXIT_FAILED)
        except RegistryError as exc:
            hint = ""
            if exc.code == 42205 and not force:
                hint = " (the target is not empty; pass --force to import into it anyway)"
            _fail(f"{exc}{hint}", EXIT_FAILED)
        except backup.BackupError as exc:
            _fail(str(exc), EXIT_FAILED)
    click.echo(
        f"Imported {report.subjects} subjects, {report.versions} versions "
        f"({report.soft_deleted} soft-deleted), {report.configs} subject configs and "
        f"{report.modes} subject modes into {http.display_url}.",
        err=True,
    )
