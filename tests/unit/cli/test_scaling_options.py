"""The scale-out flags of ``clubhouse run`` reach the service's configuration."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from clubhouse.app import ServiceConfig
from clubhouse.cli.main import cli
from clubhouse.cli.serving import ServiceOptions, service_config
from clubhouse.messaging.entries import DedupeWindow
from clubhouse.runtime.transactional_id import instance_id_for
from clubhouse.services.schema_registry import RegistrySettings


def config(options: ServiceOptions) -> ServiceConfig:
    return service_config(
        options, model_modules=(), topic_prefix="clubhouse", bootstrap_servers="b:9092",
        registry=RegistrySettings(urls=["http://r:8081"]), registry_wait_s=0.0,
        dev_tuning=False, default_state_dir=Path("default-state"),
    )  # fmt: skip


def test_the_defaults_are_exactly_once_in_the_default_state_dir() -> None:
    made = config(ServiceOptions())
    assert (made.processing_guarantee, made.state_dir, made.instance_id) == (
        "exactly-once", Path("default-state"), None)  # fmt: skip
    assert made.dedupe_window == DedupeWindow(16, 86400.0)


def test_each_flag_is_carried_over() -> None:
    made = config(ServiceOptions(
        state_dir=Path("/var/lib/c"), processing_guarantee="at-least-once", instance_id="c-0",
        replication_factor=3, dedupe_window_ids=4, dedupe_window_seconds=60.0,
    ))  # fmt: skip
    assert (made.state_dir, made.processing_guarantee, made.instance_id) == (
        Path("/var/lib/c"), "at-least-once", "c-0")  # fmt: skip
    assert made.replication_factor == 3
    assert made.dedupe_window == DedupeWindow(4, 60.0)
    assert made.kafka.partitioner == "murmur2"
    assert config(ServiceOptions(partitioner="crc32")).kafka.partitioner == "crc32"


def test_the_partitioner_flag_takes_murmur2_or_crc32() -> None:
    result = CliRunner().invoke(cli, ["run", "--partitioner", "random"])
    assert result.exit_code == 2
    assert "murmur2" in result.output and "crc32" in result.output


def test_an_unknown_guarantee_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["run", "--processing-guarantee", "maybe-once"])
    assert result.exit_code == 2
    assert "maybe-once" in result.output


def test_an_instance_id_is_made_up_once_and_kept_in_the_state_dir(tmp_path: Path) -> None:
    first = instance_id_for(tmp_path, None)
    assert first.startswith("instance-")
    assert instance_id_for(tmp_path, None) == first
    assert instance_id_for(tmp_path, "given") == "given"
