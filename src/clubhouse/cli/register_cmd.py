"""``clubhouse register``: register every contract's schema, the step CI/CD pipelines run."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from clubhouse.cli.connection import RegistryOptions
from clubhouse.cli.options import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    app_option,
    build_catalog,
    check_registry_reachable,
    collapse,
    fail,
    json_option,
    load_app_option,
    logging_options,
    models_option,
    option_group,
    prefix_for,
    registry_options,
    topic_prefix_option,
    with_dev_stack,
)
from clubhouse.cli.tables import table_lines

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from clubhouse.contracts import MessageCatalog
    from clubhouse.messaging.schema_registrator import RegistrationReport
    from clubhouse.services.registry_settings import RegistrySettings


@dataclass(frozen=True, slots=True)
class RegistrationOptions:
    """The flags of a registration run, shared by ``register`` and ``run``."""

    dry_run: bool = False
    check_compatibility: bool = False
    workers: int = 8


def registration_option_group(workers_flag: str = "--workers") -> Callable[[F], F]:
    """The registration flags; ``run`` spells the concurrency ``--register-workers``, since
    its own ``--workers`` is the number of service processes."""
    return option_group(
        collapse(
            "registration",
            ("dry_run", "check_compatibility", "workers"),
            lambda _ctx, values: RegistrationOptions(**values),
        ),
        click.option("--dry-run", is_flag=True, help="Register nothing; report what would."),
        click.option(
            "--check-compatibility",
            is_flag=True,
            help="Test each schema against its subject first; report incompatible ones "
            "without trying to register them.",
        ),
        click.option(
            workers_flag,
            "workers",
            type=click.IntRange(1, 64),
            default=8,
            show_default=True,
            help="Concrete models registered concurrently (bases always go first, alone).",
        ),
    )


registration_options = registration_option_group()

def run_registration(
    settings: RegistrySettings,
    catalog: MessageCatalog,
    topic_prefix: str,
    *,
    dry_run: bool = False,
    check_compatibility: bool = False,
    workers: int = 8,
    wait_s: float = 0.0,
) -> RegistrationReport:
    """Connect (waiting up to ``wait_s``), register, and return the report.

    Raises ``RegistryUnreachableError`` / ``RegistryUnauthorizedError`` when nothing can be
    registered at all.
    """
    from clubhouse.messaging.schema_registrator import SchemaRegistrator  # noqa: PLC0415
    from clubhouse.services.schema_registry import (  # noqa: PLC0415 - slow import
        ConfluentSchemaRegistry,
        wait_for_registry,
    )

    with ConfluentSchemaRegistry.from_settings(settings) as registry:
        wait_for_registry(registry, wait_s)
        registrator = SchemaRegistrator(
            registry,
            catalog,
            topic_prefix,
            max_workers=workers,
            check_compatibility=check_compatibility,
            dry_run=dry_run,
        )
        return registrator.register_all_schemas()


def exit_code(report: RegistrationReport) -> int:
    """0 when every schema is in place, 2 when the registry was unusable, 1 otherwise."""
    if report.stopped_early:
        return EXIT_CONFIG
    return EXIT_OK if report.ok else EXIT_FAILED


def render_report(report: RegistrationReport, settings: RegistrySettings) -> str:
    """A table of every model's outcome, and a summary line naming each count."""
    rows = [("MODEL", "SUBJECT", "OUTCOME", "ID", "VERSION")]
    for r in report.results:
        rows.append((r.model, r.subject, r.outcome.value, str(r.schema_id or "-"),
                     str(r.version or "-")))  # fmt: skip
    lines = table_lines(rows)
    for r in report.failed:
        lines.append(f"FAILED {r.subject}: {r.error}")
    counts = report.counts()
    shown = ["would-register"] if report.dry_run else ["registered"]
    shown += ["already-registered", "failed"]
    verb = "would be in place" if report.dry_run else "in place"
    lines.append(
        f"{report.registered_count}/{len(report.results)} schemas {verb} at "
        f"{settings.display_url}: " + ", ".join(f"{counts.get(o, 0)} {o}" for o in shown)
    )
    return "\n".join(lines)


def report_and_exit(report: RegistrationReport, settings: RegistrySettings, as_json: bool) -> int:
    """Print the report (table or JSON) and return the exit code."""
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(render_report(report, settings))
    return exit_code(report)


def register_and_report(
    registry: RegistryOptions,
    registration: RegistrationOptions,
    *,
    model_modules: tuple[str, ...],
    topic_prefix: str,
    as_json: bool,
    app_ref: str | None = None,
) -> int:
    """Register for CLI options, print the report and return the exit code.

    With ``app_ref`` the App's models are registered, under its prefix unless one is given.
    Configuration and connection errors print one line and exit 2.
    """
    from clubhouse.services.registry_errors import RegistryError  # noqa: PLC0415

    app = load_app_option(app_ref)
    catalog = build_catalog(model_modules, app=app)
    topic_prefix = prefix_for(app, topic_prefix)
    registry = with_dev_stack(registry)
    if not registry.url:
        raise click.UsageError(registry.missing_message())
    check_registry_reachable(registry)
    settings = registry.settings()
    try:
        report = run_registration(
            settings,
            catalog,
            topic_prefix,
            dry_run=registration.dry_run,
            check_compatibility=registration.check_compatibility,
            workers=registration.workers,
            wait_s=registry.wait_s,
        )
    except RegistryError as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "fatal_error": str(exc),
                                   "error_type": type(exc).__name__}))  # fmt: skip
        fail(str(exc), EXIT_CONFIG)
    return report_and_exit(report, settings, as_json)


@click.command("register")
@registry_options()
@app_option
@models_option
@topic_prefix_option
@registration_options
@json_option
@logging_options
def register(
    *,
    registry: RegistryOptions,
    registration: RegistrationOptions,
    app_ref: str | None,
    model_modules: tuple[str, ...],
    topic_prefix: str,
    as_json: bool,
) -> None:
    """Register the Avro schema of every message model, bases first.

    Idempotent: a schema already registered under its subject is reported as
    already-registered and creates no new version. One failure does not stop the others.
    With no registry given, the dev stack running from this directory is used.

    \b
    Exit codes: 0 every schema registered or already present; 1 some failed
    (the report says which and why); 2 configuration error, or the registry
    cannot be reached / refused the credentials.

    \b
    Examples:
      clubhouse register --schema-registry-url http://localhost:8081
      clubhouse register --url http://localhost:8081 --dry-run
      SCHEMA_REGISTRY_URL=https://sr:8081 SCHEMA_REGISTRY_BASIC_AUTH=ci:secret \\
          clubhouse register --models myapp.messages --json
      clubhouse register --dry-run --check-compatibility --registry-wait 60
      clubhouse register --app orders_app:app        # the models your App names
    """
    raise SystemExit(
        register_and_report(
            registry,
            registration,
            model_modules=model_modules,
            topic_prefix=topic_prefix,
            as_json=as_json,
            app_ref=app_ref,
        )
    )
