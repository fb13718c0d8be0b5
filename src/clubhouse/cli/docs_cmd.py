"""``clubhouse docs``: build the message documentation, or serve it for browsing.

Exit codes: 0 done, 1 the files could not be written, 2 bad configuration (a model module that
does not import, a model without an Avro form) or a registry that cannot be reached.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import click

from clubhouse.avro import SchemaConversionError
from clubhouse.cli.connection import RegistryOptions
from clubhouse.cli.options import (
    EXIT_CONFIG,
    EXIT_FAILED,
    Contracts,
    contracts_options,
    fail,
    json_option,
    logging_options,
    open_registry,
    registry_options,
    topic_prefix_option,
    with_dev_stack,
)
from clubhouse.docs import (
    DocsError,
    DocsModel,
    build_docs_model,
    build_site,
    registry_doc,
    write_site,
)
from clubhouse.docs.serve import listen, serve_docs
from clubhouse.services.registry_errors import RegistryError

F = TypeVar("F", bound=Callable[..., Any])


def source_options(fn: F) -> F:
    """What to document: models, topic prefix, title, and optionally a registry."""
    options: list[Callable[[F], F]] = [
        contracts_options,
        topic_prefix_option,
        click.option(
            "--title",
            default="Clubhouse messages",
            show_default=True,
            help="Heading of the page and title of the AsyncAPI document.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return registry_options(required=False)(fn)


@contextmanager
def _config_errors() -> Iterator[None]:
    try:
        yield
    except (RegistryError, SchemaConversionError) as exc:
        fail(str(exc), EXIT_CONFIG)
    except DocsError as exc:
        fail(str(exc), EXIT_FAILED)


def gather(
    *, contracts: Contracts, topic_prefix: str, title: str, registry: RegistryOptions
) -> DocsModel:
    """The documentation model for the CLI's options, asking the registry when one is given."""
    catalog = contracts.catalog()
    links = contracts.links(topic_prefix)
    topic_prefix = contracts.prefix(topic_prefix)
    keys = contracts.keys()
    registry = with_dev_stack(registry)
    if not registry.url:
        return build_docs_model(catalog, topic_prefix=topic_prefix, title=title, keys=keys,
                                links=links)  # fmt: skip
    with open_registry(registry) as client:
        docs = build_docs_model(
            catalog,
            topic_prefix=topic_prefix,
            keys=keys,
            links=links,
            registry_lookup=partial(registry_doc, client),
            registry_url=client.display_url,
            title=title,
        )
    for message in docs.messages:
        if message.registry is not None and message.registry.error:
            click.echo(f"Warning: {message.registry.error}", err=True)
    return docs


@click.group("docs")
def docs() -> None:
    """Browsable documentation of every message: one HTML page, Markdown and AsyncAPI.

    \b
    Examples:
      clubhouse docs build --out site/
      clubhouse docs build --out site/ --url http://localhost:8081 --models myapp.messages
      clubhouse docs serve --port 8000
    """


@docs.command("build")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write index.html, messages.md and asyncapi.yaml into (created).",
)
@source_options
@json_option
@logging_options
def build_cmd(
    *,
    out: Path,
    contracts: Contracts,
    topic_prefix: str,
    title: str,
    as_json: bool,
    registry: RegistryOptions,
) -> None:
    """Write the docs of every message model into OUT.

    \b
    OUT/index.html     one self-contained page: no network, works from file://
    OUT/messages.md    one section per message, for wikis and READMEs
    OUT/asyncapi.yaml  AsyncAPI 3.0: topics, operations, Avro payloads
    \b
    With a registry (--url or SCHEMA_REGISTRY_URL) each message also shows its schema id and
    version, its version history with a field-level changelog, and its compatibility level.
    \b
    Examples:
      clubhouse docs build --out site/
      clubhouse docs build --out site/ --url http://localhost:8081
      clubhouse docs build --out site/ --models myapp.messages --topic-prefix shop
    """
    with _config_errors():
        docs_model = gather(
            contracts=contracts, topic_prefix=topic_prefix, title=title, registry=registry
        )
        written = write_site(build_site(docs_model), out)
    if as_json:
        click.echo(json.dumps({
            "out": str(out),
            "files": [str(p) for p in written],
            "messages": docs_model.names,
            "registry": docs_model.registry_url,
        }, indent=2))  # fmt: skip
        return
    source = f" with history from {docs_model.registry_url}" if docs_model.registry_url else ""
    click.echo(f"Documented {len(docs_model.messages)} messages{source}:")
    for path in written:
        click.echo(f"  {path}")


@docs.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0 picks a free one and prints it).",
)
@source_options
@logging_options
def serve_cmd(
    *,
    host: str,
    port: int,
    contracts: Contracts,
    topic_prefix: str,
    title: str,
    registry: RegistryOptions,
) -> None:
    """Serve the docs over HTTP for browsing: / is the page, also /messages.md, /asyncapi.yaml.

    The pages are built once at start-up; restart to pick up new models or versions.

    \b
    Examples:
      clubhouse docs serve                      # http://127.0.0.1:8000/
      clubhouse docs serve --port 0 --url http://localhost:8081
    """
    with _config_errors():
        docs_model = gather(
            contracts=contracts, topic_prefix=topic_prefix, title=title, registry=registry
        )
        site = build_site(docs_model)
        sock = listen(host, port)

    def ready(url: str) -> None:
        click.echo(f"Serving {len(docs_model.messages)} messages at {url} (Ctrl-C to stop)")

    serve_docs(site, sock, on_ready=ready)
