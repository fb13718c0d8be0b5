"""The list of top-level command groups the ``clubhouse`` CLI exposes."""

from __future__ import annotations

import click


def all_commands() -> list[click.Command]:
    """Every top-level command, in the order ``--help`` lists them."""
    found: list[click.Command] = []
    from clubhouse.cli.register_cmd import register  # noqa: PLC0415

    found.append(register)
    from clubhouse.cli.run_cmd import run  # noqa: PLC0415

    found.append(run)
    from clubhouse.cli.dev_cmd import dev  # noqa: PLC0415

    found.append(dev)
    from clubhouse.cli.client_cmd import events, send  # noqa: PLC0415

    found += [send, events]
    from clubhouse.cli.registry_cmd import registry  # noqa: PLC0415

    found.append(registry)
    from clubhouse.cli.schemas_cmd import schemas  # noqa: PLC0415
    from clubhouse.cli.validate_cmd import validate  # noqa: PLC0415

    found += [schemas, validate]
    from clubhouse.cli.docs_cmd import docs  # noqa: PLC0415

    found.append(docs)
    return found
