"""``clubhouse schemas``: the compatibility gate, diffs, plans and schema files.

Exit codes CI can rely on: 0 compatible / done, 1 incompatible, 2 bad configuration or the
registry could not be reached (the gate could not run). Each command is a thin layer over
``clubhouse.evolution``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from clubhouse.avro import SchemaConversionError
from clubhouse.cli.connection import RegistryOptions
from clubhouse.cli.options import (
    EXIT_FAILED,
    EXIT_OK,
    Contracts,
    contracts_options,
    fail,
    json_option,
    logging_options,
    open_registry,
    registry_options,
    topic_prefix_option,
)
from clubhouse.contracts import MessageCatalog
from clubhouse.evolution import (
    DirectorySource,
    RegistrySource,
    SchemaDirectoryError,
    SchemaSource,
    SchemaTextError,
    check_models,
    diff_model,
    download_schemas,
    export_models,
    plan_registration,
    reporting,
)
from clubhouse.messaging.subjects import subject_name
from clubhouse.services.kafka_protocol import COMPATIBILITY_LEVELS, CompatibilityLevel
from clubhouse.services.registry_errors import RegistryError
from clubhouse.validation import SubjectNotRegisteredError

F = TypeVar("F", bound=Callable[..., Any])

# Failures that mean the command could not do its job at all: configuration, not verdicts.
CONFIG_ERRORS = (
    RegistryError,
    SchemaDirectoryError,
    SchemaTextError,
    SchemaConversionError,
    SubjectNotRegisteredError,
)


@contextmanager
def config_errors_exit() -> Iterator[None]:
    """Turn configuration and registry failures into exit code 2 with their message."""
    try:
        yield
    except CONFIG_ERRORS as exc:
        fail(str(exc))


def registry_connection_options(fn: F) -> F:
    """The shared registry flags (``--url`` included), optional here."""
    return registry_options(required=False)(fn)


def _level_choice() -> click.Choice[str]:
    return click.Choice(COMPATIBILITY_LEVELS, case_sensitive=False)


def _upper_level(value: str | None) -> CompatibilityLevel | None:
    if value is None:
        return None
    level = value.upper()
    for known in COMPATIBILITY_LEVELS:
        if known == level:
            return known
    raise click.BadParameter(f"unknown compatibility level {value!r}")


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


def _pick_models(catalog: MessageCatalog, name: str | None) -> list[Any]:
    if name is None:
        return list(catalog)
    try:
        return [catalog.get(name)]
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="MODEL") from exc


@click.group("schemas")
def schemas() -> None:
    """Schema evolution: check compatibility, diff, plan, export and download schemas.

    \b
    Exit codes: 0 compatible / done, 1 incompatible (or would be refused),
                2 bad configuration or registry unreachable.
    \b
    Examples:
      clubhouse schemas check --schema-registry-url http://localhost:8081
      clubhouse schemas check --against schemas/v1.4 --models myapp.messages
      clubhouse schemas diff ProcessMessageCommand --url http://localhost:8081
      clubhouse schemas plan --url http://localhost:8081
      clubhouse schemas export --out schemas/current
      clubhouse schemas download --url http://localhost:8081 --out schemas/prod --all-versions
      clubhouse schemas set-compatibility FULL --subject clubhouse-ProcessMessageCommand-value
    """


@schemas.command("check")
@contracts_options
@topic_prefix_option
@registry_connection_options
@click.option(
    "--against",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Check offline against a directory of .avsc files (from export or download).",
)
@click.option(
    "--level",
    type=_level_choice(),
    help="Check at this level instead of each subject's own (transitive levels compare "
    "with every version).",
)
@json_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Output: text, JSON, or GitHub Actions ::error annotations.",
)
@logging_options
def check_cmd(
    *,
    contracts: Contracts,
    topic_prefix: str,
    against: Path | None,
    level: str | None,
    as_json: bool,
    fmt: str,
    registry: RegistryOptions,
) -> None:
    """Check every local model against what its subject already holds.

    Each model's subject ({prefix}-{Model}-value) is compared at its own compatibility
    level (or --level); reasons read `Model.field: rule`. Without --against the registry
    is asked for the versions and levels; with it, no registry is needed. Offline, the level
    comes from the directory's manifest.json (written by download), else BACKWARD.

    \b
    Examples:
      clubhouse schemas check --url http://localhost:8081
      clubhouse schemas check --url http://localhost:8081 --level FULL_TRANSITIVE --json
      clubhouse schemas check --against schemas/release-1.4 --format github
    """
    topic_prefix = contracts.prefix(topic_prefix)
    catalog = contracts.catalog()
    chosen = _upper_level(level)
    with config_errors_exit():
        if against is not None:
            report = check_models(
                catalog, topic_prefix=topic_prefix, source=DirectorySource(against), level=chosen
            )
        else:
            with open_registry(registry) as client:
                source: SchemaSource = RegistrySource(client, description=client.display_url)
                report = check_models(
                    catalog, topic_prefix=topic_prefix, source=source, level=chosen
                )
    if as_json or fmt == "json":
        _echo_json(reporting.check_json(report))
    elif fmt == "github":
        origins = {m.__name__: o for m in catalog if (o := reporting.model_origin(m))}
        click.echo(reporting.check_github(report, origins))
    else:
        click.echo(reporting.check_text(report))
    sys.exit(EXIT_OK if report.compatible else EXIT_FAILED)


@schemas.command("export")
@contracts_options
@topic_prefix_option
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write {subject}.avsc files and manifest.json into (created if needed).",
)
@json_option
@logging_options
def export_cmd(
    *, contracts: Contracts, topic_prefix: str, out: Path, as_json: bool
) -> None:
    """Write each local model's canonical schema to OUT/{subject}.avsc.

    Commit the directory with a release; `schemas check --against` compares later models
    with it, offline.

    \b
    Examples:
      clubhouse schemas export --out schemas/release-1.4
      clubhouse schemas export --out build/schemas --models myapp.messages --topic-prefix shop
    """
    topic_prefix = contracts.prefix(topic_prefix)
    catalog = contracts.catalog()
    with config_errors_exit():
        written = export_models(catalog, topic_prefix=topic_prefix, out=out)
    _report_files(written, as_json)


def _report_files(written: list[Path], as_json: bool) -> None:
    if as_json:
        _echo_json({"files": [str(p) for p in written]})
    else:
        click.echo("\n".join(str(p) for p in written))
        click.echo(f"{len(written)} schema file(s) written", err=True)


@schemas.command("download")
@contracts_options
@topic_prefix_option
@registry_connection_options
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the .avsc files and manifest.json into (created if needed).",
)
@click.option("--all-versions", is_flag=True, help="Also write {subject}.v{N}.avsc per version.")
@click.option("--subject", "subjects", multiple=True, help="Only this subject (repeatable).")
@click.option(
    "--local-only",
    is_flag=True,
    help="Only the subjects of the local models (built-ins plus --models) that are registered.",
)
@json_option
@logging_options
def download_cmd(
    *,
    contracts: Contracts,
    topic_prefix: str,
    out: Path,
    all_versions: bool,
    subjects: tuple[str, ...],
    local_only: bool,
    as_json: bool,
    registry: RegistryOptions,
) -> None:
    """Write the registry's schemas to OUT: {subject}.avsc (latest), {subject}.v{N}.avsc.

    manifest.json records each subject's latest version and compatibility level, so a later
    `schemas check --against OUT` applies the same levels as the registry.

    \b
    Examples:
      clubhouse schemas download --url http://localhost:8081 --out schemas/prod
      clubhouse schemas download --url http://localhost:8081 --out base --all-versions
      clubhouse schemas download --url http://localhost:8081 --out base --local-only
    """
    topic_prefix = contracts.prefix(topic_prefix)
    wanted: list[str] | None = list(subjects) or None
    with config_errors_exit(), open_registry(registry) as client:
        if local_only:
            registered = set(client.get_subjects())
            local = [subject_name(topic_prefix, m) for m in contracts.catalog()]
            wanted = [s for s in (wanted or local) if s in registered and s in local]
        written = download_schemas(client, out=out, all_versions=all_versions, subjects=wanted)
    _report_files(written, as_json)


@schemas.command("diff")
@click.argument("model", required=False)
@contracts_options
@topic_prefix_option
@registry_connection_options
@click.option(
    "--against",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Diff against a directory of .avsc files instead of the registry.",
)
@json_option
@logging_options
def diff_cmd(
    *,
    model: str | None,
    contracts: Contracts,
    topic_prefix: str,
    against: Path | None,
    as_json: bool,
    registry: RegistryOptions,
) -> None:
    """Field-level diff of MODEL (default: every model) against its latest registered version.

    Shows fields added (+), removed (-) and changed (~: type, default, rename through
    aliases), then the compatibility verdict under every level. The diff informs; it exits 0
    whatever it finds (use `schemas check` as the gate).

    \b
    Examples:
      clubhouse schemas diff ProcessMessageCommand --url http://localhost:8081
      clubhouse schemas diff --against schemas/release-1.4 --json
    """
    topic_prefix = contracts.prefix(topic_prefix)
    catalog = contracts.catalog()
    models = _pick_models(catalog, model)
    with config_errors_exit():
        if against is not None:
            source: SchemaSource = DirectorySource(against)
            diffs = [diff_model(m, topic_prefix=topic_prefix, source=source) for m in models]
        else:
            with open_registry(registry) as client:
                source = RegistrySource(client)
                diffs = [diff_model(m, topic_prefix=topic_prefix, source=source) for m in models]
    if as_json:
        _echo_json(reporting.diff_json(diffs))
    else:
        click.echo(reporting.diff_text(diffs))


@schemas.command("plan")
@contracts_options
@topic_prefix_option
@registry_connection_options
@json_option
@logging_options
def plan_cmd(
    *, contracts: Contracts, topic_prefix: str, as_json: bool, registry: RegistryOptions
) -> None:
    """Show what `register` would do for each model, without writing anything.

    Each model is a new subject, unchanged (already registered), a new version, or
    incompatible (the registry would refuse it; exit 1).

    \b
    Examples:
      clubhouse schemas plan --url http://localhost:8081
      clubhouse schemas plan --url http://localhost:8081 --models myapp.messages --json
    """
    topic_prefix = contracts.prefix(topic_prefix)
    catalog = contracts.catalog()
    with config_errors_exit(), open_registry(registry) as client:
        steps = plan_registration(catalog, topic_prefix=topic_prefix, registry=client)
    if as_json:
        _echo_json(reporting.plan_json(steps))
    else:
        click.echo(reporting.plan_text(steps))
    refused = any(s.action == "incompatible" for s in steps)
    sys.exit(EXIT_FAILED if refused else EXIT_OK)


@schemas.command("set-compatibility")
@click.argument("level", type=_level_choice())
@click.option("--subject", help="The subject to configure (default: the global level).")
@click.option("--model", "model_name", help="Configure this model's subject instead.")
@contracts_options
@topic_prefix_option
@registry_connection_options
@logging_options
def set_compatibility_cmd(
    *,
    level: str,
    subject: str | None,
    model_name: str | None,
    contracts: Contracts,
    topic_prefix: str,
    registry: RegistryOptions,
) -> None:
    """Set the compatibility LEVEL of one subject, or the registry's global level.

    LEVEL is one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL,
    FULL_TRANSITIVE, NONE (any case).

    \b
    Examples:
      clubhouse schemas set-compatibility FULL --url http://localhost:8081
      clubhouse schemas set-compatibility backward_transitive --subject clubhouse-Foo-value
      clubhouse schemas set-compatibility FULL --model ProcessMessageCommand
    """
    topic_prefix = contracts.prefix(topic_prefix)
    if subject and model_name:
        raise click.UsageError("give --subject or --model, not both")
    if model_name:
        (model,) = _pick_models(contracts.catalog(), model_name)
        subject = subject_name(topic_prefix, model)
    chosen = _upper_level(level)
    assert chosen is not None  # click.Choice has already refused anything else
    with config_errors_exit(), open_registry(registry) as client:
        client.set_compatibility(chosen, subject)
        effective = client.get_compatibility(subject)
    click.echo(f"{subject or 'global'}: compatibility {effective}")
