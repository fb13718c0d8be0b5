"""``clubhouse dev --instances``: the option, and the command lines of the child instances."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from clubhouse.cli import dev_cmd
from clubhouse.cli.dev_instances import FleetTemplate, child_specs
from clubhouse.cli.main import cli
from clubhouse.cli.run_args import InstanceArgs, run_argv, run_flags


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What ``clubhouse dev`` would run: run_dev's keyword arguments, nothing started."""
    calls: dict[str, Any] = {}
    monkeypatch.setattr(dev_cmd, "run_dev", lambda *_args, **kwargs: calls.update(kwargs))
    return calls


def test_instances_defaults_to_one(captured: dict[str, Any]) -> None:
    result = CliRunner().invoke(cli, ["dev"])
    assert result.exit_code == 0, result.output
    assert captured["instances"] == 1


def test_instances_is_passed_on(captured: dict[str, Any]) -> None:
    result = CliRunner().invoke(cli, ["dev", "--instances", "3"])
    assert result.exit_code == 0, result.output
    assert captured["instances"] == 3


@pytest.mark.parametrize("value", ["0", "-1", "17", "two"])
def test_instances_out_of_range_is_a_usage_error(captured: dict[str, Any], value: str) -> None:
    result = CliRunner().invoke(cli, ["dev", "--instances", value])
    assert result.exit_code == 2
    assert "--instances" in result.output
    assert not captured


def test_instances_with_no_service_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["dev", "--no-service", "--instances", "2", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 2
    assert "--instances runs service instances; not with --no-service" in result.output
    assert not (tmp_path / "d").exists()  # refused before anything was locked or started


def test_help_shows_an_instances_example() -> None:
    result = CliRunner().invoke(cli, ["dev", "--help"])
    assert "clubhouse dev --instances 3" in result.output


def template(tmp_path: Path, **overrides: Any) -> FleetTemplate:
    base: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "bootstrap_servers": "127.0.0.1:9092",
        "schema_registry_url": "http://127.0.0.1:8081",
        "topic_prefix": "shop",
        "partitions": 6,
        "batch_size": 50,
    }
    return FleetTemplate(**(base | overrides))


def test_one_instance_needs_no_child(tmp_path: Path) -> None:
    assert child_specs(template(tmp_path), 1) == []


def test_children_are_instances_two_to_n_each_with_its_own_state_port_and_log(
    tmp_path: Path,
) -> None:
    ports = itertools.count(7001)
    specs = child_specs(template(tmp_path), 3, pick_port=lambda: next(ports))
    data = tmp_path / "data"
    assert [args.instance_id for args, _ in specs] == ["instance-2", "instance-3"]
    assert [spec.component for _, spec in specs] == ["service instance-2", "service instance-3"]
    assert [spec.log_path for _, spec in specs] == [
        data / "logs" / "instance-2.log",
        data / "logs" / "instance-3.log",
    ]
    argvs = [list(spec.argv) for _, spec in specs]
    assert all(a[:4] == [sys.executable, "-m", "clubhouse.cli.main", "run"] for a in argvs)
    assert [flag(a, "--state-dir") for a in argvs] == [
        str(data / "state" / "instance-2"),
        str(data / "state" / "instance-3"),
    ]
    assert [flag(a, "--instance-id") for a in argvs] == ["instance-2", "instance-3"]
    assert [flag(a, "--metrics-port") for a in argvs] == ["7001", "7002"]
    for argv in argvs:
        assert flag(argv, "--bootstrap-servers") == "127.0.0.1:9092"
        assert flag(argv, "--schema-registry-url") == "http://127.0.0.1:8081"
        assert flag(argv, "--topic-prefix") == "shop"
        assert flag(argv, "--partitions") == "6"
        assert flag(argv, "--batch-size") == "50"
        assert "--kafka-dev-tuning" in argv
        assert "--app" not in argv
        assert "--group-id" not in argv


def test_children_get_the_app_models_factory_and_group_of_the_first(tmp_path: Path) -> None:
    specs = child_specs(
        template(tmp_path, app_ref="orders_app:app", model_modules=("m1", "m2"),
                 agent_factory="f:make", group_id="g"),
        2, pick_port=lambda: 7001,
    )  # fmt: skip
    argv = list(specs[0][1].argv)
    assert flag(argv, "--app") == "orders_app:app"
    assert flag(argv, "--agent-factory") == "f:make"
    assert flag(argv, "--group-id") == "g"
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--models"] == ["m1", "m2"]


def test_run_flags_leave_out_what_was_not_given(tmp_path: Path) -> None:
    args = InstanceArgs("b:1", "http://r", "p", tmp_path, "instance-1", dev_tuning=False)
    assert run_flags(args) == [
        "--bootstrap-servers", "b:1", "--schema-registry-url", "http://r",
        "--topic-prefix", "p", "--state-dir", str(tmp_path), "--instance-id", "instance-1",
        "--processing-guarantee", "exactly-once", "--partitions", "3",
    ]  # fmt: skip
    assert run_argv(args, python="py") == [
        "py",
        "-m",
        "clubhouse.cli.main",
        "run",
        *run_flags(args),
    ]


def test_run_flags_are_accepted_by_the_run_command(tmp_path: Path) -> None:
    """Every flag the builder writes is one ``clubhouse run`` parses (no typo survives)."""
    args = InstanceArgs(
        "127.0.0.1:1", "http://127.0.0.1:1", "p", tmp_path, "instance-2", metrics_port=1,
        batch_size=5, agent_factory="f:make", model_modules=("m",), group_id="g",
    )  # fmt: skip
    command = cli.get_command(None, "run")  # type: ignore[arg-type]
    assert command is not None
    context = command.make_context("run", run_flags(args), resilient_parsing=True)
    assert context.params["topic_prefix"] == "p"


def test_with_reload_instance_one_is_a_child_too_and_peers_are_passed_on(
    tmp_path: Path,
) -> None:
    ports = itertools.count(7101)
    specs = child_specs(template(tmp_path, peers={"inventory": "dev-inventory"}), 2,
                        pick_port=lambda: next(ports), first=1)  # fmt: skip
    assert [args.instance_id for args, _ in specs] == ["instance-1", "instance-2"]
    assert all(flag(list(spec.argv), "--peer") == "inventory=dev-inventory" for _, spec in specs)
