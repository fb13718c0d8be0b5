"""The top-level commands of the ``clubhouse`` CLI, imported only when used.

Each command lives in its own module; loading them lazily keeps ``clubhouse send`` from
importing the docs generator or the registry server just to start.
"""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, str] = {
    "dev": "clubhouse.cli.dev_cmd:dev",
    "run": "clubhouse.cli.run_cmd:run",
    "register": "clubhouse.cli.register_cmd:register",
    "send": "clubhouse.cli.client_cmd:send",
    "events": "clubhouse.cli.client_cmd:events",
    "schemas": "clubhouse.cli.schemas_cmd:schemas",
    "state": "clubhouse.cli.state_cmd:state",
    "validate": "clubhouse.cli.validate_cmd:validate",
    "docs": "clubhouse.cli.docs_cmd:docs",
    "registry": "clubhouse.cli.registry_cmd:registry",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported the first time they are asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, the lazily imported ones included, sorted."""
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The named command, importing its module only now when it is a lazy one."""
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command
