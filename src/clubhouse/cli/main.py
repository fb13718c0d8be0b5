"""The root ``clubhouse`` command; each command group lives in its own module."""

from __future__ import annotations

import click

from clubhouse import __version__
from clubhouse.cli import gc_pause
from clubhouse.cli.commands import LazyGroup


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="clubhouse")
def cli() -> None:
    """Clubhouse: typed Kafka commands, responses and events on registered Avro contracts.

    \b
    Examples:
      clubhouse dev                          # embedded broker + registry + service
      clubhouse register --schema-registry-url http://localhost:8081
      clubhouse registry serve --port 8081
    """


def main() -> None:
    """Console-script entry point; a missing optional extra is named with its fix (exit 2)."""
    try:
        cli()
    except ModuleNotFoundError as exc:
        from clubhouse.extras import missing_extra_hint  # noqa: PLC0415

        hint = missing_extra_hint(exc)
        if hint is None:
            raise
        click.echo(f"Error: {hint}", err=True)
        raise SystemExit(2) from None
    finally:
        gc_pause.at_exit()


if __name__ == "__main__":
    main()
