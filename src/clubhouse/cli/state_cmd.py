"""``clubhouse state``: an app's committed keyed state, read from its changelog topic.

Exit codes: 0 found, 1 the key has no state, 2 the broker or the changelog cannot be reached.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from clubhouse.cli.connection import BrokerOptions, RegistryOptions
from clubhouse.cli.options import (
    EXIT_FAILED,
    Contracts,
    broker_options,
    contracts_options,
    fail,
    json_option,
    open_registry,
    quiet_logging_options,
    registry_options,
    topic_prefix_option,
)
from clubhouse.cli.tables import table_lines

if TYPE_CHECKING:
    from clubhouse.runtime.state_query import StateQuery
    from clubhouse.services.partitioning import Partitioner

_partitioner_option = click.option(
    "--partitioner",
    type=click.Choice(["murmur2", "crc32"]),
    default="murmur2",
    show_default=True,
    envvar="CLUBHOUSE_PARTITIONER",
    help="How the service places keys (its own --partitioner): says which partition to read.",
)


@click.group("state")
def state() -> None:
    """Read an app's committed keyed state from its changelog ({prefix}-state-changelog).

    What is shown is what the service committed (read_committed), read the way an instance
    restores it: the newest record of each key, the epoch rule applied. An app with a state
    model keeps it in Avro: it is read through the schema registry (--schema-registry-url,
    or the dev stack's) and shown as JSON.

    \b
    Examples:
      clubhouse state get acct-1 --app bank:app
      clubhouse state get acct-1 --app bank:app --json
      clubhouse state list --app bank:app --limit 20
    """


@state.command("get")
@click.argument("key")
@contracts_options
@topic_prefix_option
@_partitioner_option
@broker_options()
@registry_options(required=False)
@json_option
@quiet_logging_options
def get_cmd(
    *, key: str, contracts: Contracts, topic_prefix: str, partitioner: str,
    broker: BrokerOptions, registry: RegistryOptions, as_json: bool,
) -> None:  # fmt: skip
    """Print KEY's committed state; exit 1 when it has none."""
    with _query(contracts, topic_prefix, partitioner, broker, registry) as (query, prefix):
        found = query.get(key)
    if found is None:
        if as_json:
            click.echo(json.dumps({"key": key, "state": None}))
        else:
            click.echo(f"no state for key {key!r} in {prefix}-state-changelog", err=True)
        raise SystemExit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps({"key": key, "partition": found.partition, "state": found.state}))
        return
    rows: list[list[object]] = [["field", "value"]]
    rows += [[name, json.dumps(value)] for name, value in found.state.items()]
    click.echo(f"{key} (partition {found.partition})")
    click.echo("\n".join(table_lines(rows, rule=True)))


@state.command("list")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True,
              help="Show at most this many keys, in key order.")  # fmt: skip
@contracts_options
@topic_prefix_option
@broker_options()
@registry_options(required=False)
@json_option
@quiet_logging_options
def list_cmd(
    *, limit: int, contracts: Contracts, topic_prefix: str, broker: BrokerOptions,
    registry: RegistryOptions, as_json: bool,
) -> None:  # fmt: skip
    """Print every key that has committed state, with its state."""
    with _query(contracts, topic_prefix, "murmur2", broker, registry) as (query, _):
        found = query.every(limit)
    if as_json:
        click.echo(json.dumps([{"key": s.key, "partition": s.partition, "state": s.state}
                               for s in found]))  # fmt: skip
        return
    rows: list[list[object]] = [["key", "partition", "state"]]
    rows += [[s.key, s.partition, _short(s.state)] for s in found]
    click.echo("\n".join(table_lines(rows, rule=True)))


def _short(state: dict[str, Any], width: int = 60) -> str:
    text = json.dumps(state, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 3] + "..."


@contextmanager
def _query(
    contracts: Contracts, topic_prefix: str, partitioner: str, broker: BrokerOptions,
    registry: RegistryOptions,
) -> Iterator[tuple[StateQuery, str]]:  # fmt: skip
    from clubhouse.cli.probe import ProbeError, probe_brokers  # noqa: PLC0415
    from clubhouse.runtime.changelog import changelog_topic  # noqa: PLC0415 - heavy imports
    from clubhouse.runtime.state_query import StateQuery  # noqa: PLC0415
    from clubhouse.services.kafka import KafkaAdmin, KafkaConsumer, KafkaSettings  # noqa: PLC0415
    from clubhouse.services.kafka_errors import KafkaClientError  # noqa: PLC0415

    if not broker.bootstrap_servers:
        fail("no broker: pass --bootstrap-servers, set KAFKA_BOOTSTRAP_SERVERS, or start "
             "`clubhouse dev` here")  # fmt: skip
    try:
        probe_brokers(broker.bootstrap_servers, named_by=f"from {broker.source}")
    except ProbeError as exc:
        fail(str(exc))
    prefix = contracts.prefix(topic_prefix)
    topic = changelog_topic(prefix)
    settings = KafkaSettings.from_env(bootstrap_servers=broker.bootstrap_servers)
    try:
        partitions = KafkaAdmin(settings).list_topics().get(topic)
    except KafkaClientError as exc:
        fail(f"cannot list the topics of {broker.bootstrap_servers}: {exc}")
    if not partitions:
        fail(f"no topic {topic!r}: has a service with prefix {prefix!r} run on this broker?")
    reader = KafkaConsumer(settings, partition_eof=True)
    chosen: Partitioner = "crc32" if partitioner == "crc32" else "murmur2"
    app = contracts.app()
    model = None if app is None else app.state_model
    try:
        if model is None:
            yield StateQuery(reader.read_to_end, topic, partitions, partitioner=chosen), prefix
            return
        from clubhouse.messaging.serde import MessageSerde  # noqa: PLC0415
        from clubhouse.messaging.state_codec import AvroStateCodec  # noqa: PLC0415

        with open_registry(registry) as client:
            codec = AvroStateCodec(MessageSerde(client, contracts.catalog(), prefix), model)
            yield StateQuery(reader.read_to_end, topic, partitions, partitioner=chosen,
                             codec=codec), prefix  # fmt: skip
    finally:
        reader.close()
