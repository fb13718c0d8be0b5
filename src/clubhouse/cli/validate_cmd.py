"""``clubhouse validate``: check a JSON message against the schema registered for it.

Exit codes: 0 valid, 1 violations (each listed with path, expected and found), 2 bad
configuration, unreadable file, unknown subject or unreachable registry.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import click

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
    topic_prefix_option,
)
from clubhouse.cli.schemas_cmd import config_errors_exit, registry_connection_options
from clubhouse.evolution import reporting
from clubhouse.messaging.subjects import subject_name
from clubhouse.validation import ValidationReport, validate_against_registry
from clubhouse.validation.registry import Version


def _version(value: str) -> Version:
    if value == "latest":
        return "latest"
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise click.BadParameter(f"{value!r} is neither a version number (1, 2, ...) nor 'latest'")


def _load_messages(file: TextIO, name: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The message(s) in the file, labelled: one JSON object, or an array of them."""
    try:
        data = json.load(file)
    except ValueError as exc:
        fail(f"{name} is not valid JSON: {exc}")
    if not isinstance(data, list):
        data, labels = [data], [name]
    else:
        labels = [f"{name}[{i}]" for i in range(len(data))]
    for label, item in zip(labels, data, strict=True):
        if not isinstance(item, dict):
            found = type(item).__name__
            fail(f"{label}: expected a JSON object (or an array of objects), found {found}")
    return list(zip(labels, data, strict=True))


@click.command("validate")
@click.option("--subject", help="Subject whose registered schema the message must match.")
@click.option("--model", "model_name", help="Validate against this model's subject instead.")
@click.option(
    "--file",
    "file",
    required=True,
    type=click.File("r", encoding="utf-8"),
    help="JSON message: one object, or an array of objects ('-' reads stdin).",
)
@click.option(
    "--version",
    "version",
    default="latest",
    show_default=True,
    help="Registered version to validate against (a number or 'latest').",
)
@contracts_options
@topic_prefix_option
@registry_connection_options
@json_option
@logging_options
def validate(
    *,
    subject: str | None,
    model_name: str | None,
    file: TextIO,
    version: str,
    contracts: Contracts,
    topic_prefix: str,
    as_json: bool,
    registry: RegistryOptions,
) -> None:
    """Validate a JSON message against the schema registered under a subject.

    Every violation is listed with its field path, what the schema expects and what the
    message holds. JSON forms of Avro logical types are accepted: ISO 8601 timestamps and
    dates, UUID strings, decimals as strings; enums are given by symbol name.

    \b
    Examples:
      clubhouse validate --subject clubhouse-ProcessMessageCommand-value --file msg.json \\
          --url http://localhost:8081
      clubhouse validate --model CreateAgentCommand --file - --json < msg.json
      clubhouse validate --model Order --models myapp.messages --file order.json --version 2
    """
    topic_prefix = contracts.prefix(topic_prefix)
    if bool(subject) == bool(model_name):
        raise click.UsageError("give exactly one of --subject or --model")
    if model_name:
        try:
            model = contracts.catalog().get(model_name)
        except KeyError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="--model") from exc
        subject = subject_name(topic_prefix, model)
    assert subject is not None
    wanted = _version(version)
    messages = _load_messages(file, getattr(file, "name", "message"))
    reports: list[tuple[str, ValidationReport]] = []
    with config_errors_exit(), open_registry(registry) as client:
        for label, message in messages:
            report = validate_against_registry(message, subject, wanted, registry=client)
            reports.append((label, report))
    if as_json:
        body = [{"message": label, **reporting.validation_json(r)} for label, r in reports]
        click.echo(json.dumps(body[0] if len(body) == 1 else body, indent=2))
    else:
        click.echo("\n".join(reporting.validation_text(r, label=label) for label, r in reports))
    sys.exit(EXIT_OK if all(r.ok for _, r in reports) else EXIT_FAILED)
