"""``--peer NAME=PREFIX``: parsed into the service's mapping, refused when malformed, and
passed on to child instances."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from clubhouse.cli.run_args import InstanceArgs, run_flags
from clubhouse.cli.serving import parse_peers


def test_peers_are_parsed_by_name() -> None:
    assert parse_peers(("inventory=staging-inventory", " billing = prod-billing ")) == {
        "inventory": "staging-inventory", "billing": "prod-billing"
    }  # fmt: skip
    assert parse_peers(()) == {}


@pytest.mark.parametrize("bad", ["inventory", "=x", "inventory=", " = "])
def test_a_malformed_peer_is_a_usage_error_with_an_example(bad: str) -> None:
    with pytest.raises(click.UsageError, match="expected NAME=PREFIX"):
        parse_peers((bad,))


def test_child_instances_get_the_same_peers_and_commit_interval() -> None:
    args = InstanceArgs("b:9092", "http://r", "orders", Path("s"), "i-1",
                        peers={"inventory": "staging-inventory"},
                        commit_interval_ms=100)  # fmt: skip
    flags = run_flags(args)
    assert flags[flags.index("--peer") + 1] == "inventory=staging-inventory"
    assert flags[flags.index("--commit-interval-ms") + 1] == "100"
