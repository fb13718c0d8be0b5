"""A fleet per test on the shared broker and a fresh registry, plus the traffic around it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .checks import Outcome, PropertyRecorder, check_outcome, final_state, outcome
from .harness import Fleet
from .traffic import Driver, Plan, ResponseCollector, connect_client

ANSWER_TIMEOUT_S = 120.0
BASELINE_RATE = 200.0  # commands per second for the single-instance reference run


class Scenario:
    """A fleet, a collector reading its responses and the drivers feeding it commands."""

    def __init__(self, fleet: Fleet, broker_kind: str, record: PropertyRecorder) -> None:
        self.fleet = fleet
        self.broker_kind = broker_kind
        self.record = record
        self._collector: ResponseCollector | None = None
        self._clients: list[Any] = []

    @property
    def collector(self) -> ResponseCollector:
        """The response reader; created once the topics exist."""
        if self._collector is None:
            f = self.fleet
            self._collector = ResponseCollector(f.bootstrap, f.registry_url, f.prefix)
        return self._collector

    def start(self, instances: int) -> None:
        """Start instances 0..instances-1 and wait until all are ready."""
        self.fleet.start_all(range(instances))
        _ = self.collector

    def drive(self, commands: list[Any], rate: float) -> Driver:
        """Send ``commands`` at ``rate`` per second from a background thread."""
        f = self.fleet
        client = connect_client(f.bootstrap, f.registry_url, f.prefix)
        self._clients.append(client)
        return Driver(client, commands, rate).start()

    def finish(self, driver: Driver, *, check: bool = True) -> Outcome:
        """Wait for the driver and the answers; then run the common checks on them."""
        driver.join()
        self.collector.wait_answered([c.message_id for c in driver.commands], ANSWER_TIMEOUT_S)
        self.collector.settle()
        result = outcome(driver.commands, self.collector.answers())
        if check:
            check_outcome(
                result, broker_kind=self.broker_kind, record=self.record, fleet=self.fleet
            )
        return result

    def close(self) -> None:
        if self._collector is not None:
            self._collector.close()
        for client in self._clients:
            client.close()
        self.fleet.stop_all()


@pytest.fixture
def scenario(  # noqa: PLR0917 (pytest passes fixtures by name)
    kafka_broker: str,
    registry_url: str,
    topic_prefix: str,
    tmp_path: Path,
    broker_kind: str,
    record_property: PropertyRecorder,
) -> Iterator[Scenario]:
    fleet = Fleet(kafka_broker, registry_url, topic_prefix, tmp_path / "fleet", partitions=3)
    made = Scenario(fleet, broker_kind, record_property)
    yield made
    made.close()


@pytest.fixture(scope="module")
def baselines() -> dict[Plan, dict[str, dict[str, Any]]]:
    """Reference states by plan; they depend on the commands only, not on the broker."""
    return {}


@pytest.fixture
def single_instance_state(  # noqa: PLR0917 (pytest passes fixtures by name)
    baselines: dict[Plan, dict[str, dict[str, Any]]],
    kafka_broker: str,
    registry_url: str,
    topic_prefix: str,
    tmp_path: Path,
    broker_kind: str,
    record_property: PropertyRecorder,
) -> Callable[[Plan], dict[str, dict[str, Any]]]:
    """The final state of one instance after a plan's commands (computed once per plan)."""

    def compute(plan: Plan) -> dict[str, dict[str, Any]]:
        if plan not in baselines:
            fleet = Fleet(kafka_broker, registry_url, f"{topic_prefix}-one", tmp_path / "one")
            reference = Scenario(fleet, broker_kind, record_property)
            try:
                reference.start(1)
                reference.finish(reference.drive(plan.commands(), BASELINE_RATE))
                baselines[plan] = final_state(fleet)
            finally:
                reference.close()
        return baselines[plan]

    return compute
