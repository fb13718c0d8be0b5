"""Instances of ``clubhouse run`` sharing one consumer group, under failures and rebalances.

Each scenario drives a steady stream of echo-agent commands over many keys (every
partition gets work) while it kills, freezes, adds or removes instances, then checks the
responses (every command answered by exactly one response id, no error) and the final
state (equal to one instance's after the same commands).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from .checks import check_outcome, check_state, outcome
from .conftest import Scenario
from .traffic import Plan

pytestmark = pytest.mark.integration

RATE = 25.0  # commands per second: slow enough that every scenario's event lands mid-stream
PLAN = Plan(keys=24, messages=220)  # a 9 s stream: the shortest that still spans each event
STORM_S = 40.0  # 13 joins and leaves, one every STORM_STEP_S, while commands keep coming
STORM_STEP_S = 3.0
STORM_PLAN = Plan(keys=24, messages=int((STORM_S + 2) * RATE))
SESSION_TIMEOUT_S = 6.0  # --kafka-dev-tuning's session.timeout.ms

StateOf = Callable[[Plan], dict[str, dict[str, Any]]]


def needs_working_rebalances(scenario: Scenario) -> None:
    """Scenarios where members leave while others join run on Kafka only.

    Tansu 0.6's group coordinator stops assigning partitions to anyone after members leave
    during a rebalance (measured with plain confluent-kafka consumers too: a new member got
    nothing in 150 s). Here that showed as 208 of 324 commands (3 -> 1 -> 3) and 775 of 1264
    (the storm) never answered, with no error and no duplicate: a broker limit, not ours.
    """
    if scenario.broker_kind == "tansu":
        pytest.skip("Tansu's group coordinator stops assigning partitions after members "
                    "leave mid-rebalance; this scenario runs on Kafka")  # fmt: skip


def test_one_instance_answers_a_stream(scenario: Scenario, single_instance_state: StateOf) -> None:
    scenario.start(1)
    scenario.finish(scenario.drive(PLAN.commands(), RATE))
    check_state(scenario.fleet, single_instance_state(PLAN))


@pytest.mark.parametrize("instances", [1, 3])
def test_kill9_mid_stream_and_restart_with_the_same_id(
    scenario: Scenario, single_instance_state: StateOf, instances: int
) -> None:
    scenario.start(instances)
    driver = scenario.drive(PLAN.commands(), RATE)
    driver.wait_sent(len(driver.commands) // 3)
    victim = instances - 1
    scenario.fleet.kill9(victim)
    time.sleep(2.0)
    scenario.fleet.start(victim)
    scenario.fleet.wait_ready(victim)
    scenario.finish(driver)
    check_state(scenario.fleet, single_instance_state(PLAN))


@pytest.mark.parametrize("instances", [1, 3])
def test_sigstop_past_the_session_timeout_then_sigcont(
    scenario: Scenario, single_instance_state: StateOf, instances: int
) -> None:
    scenario.start(instances)
    driver = scenario.drive(PLAN.commands(), RATE)
    driver.wait_sent(len(driver.commands) // 4)
    frozen = instances - 1
    scenario.fleet.sigstop(frozen)
    time.sleep(SESSION_TIMEOUT_S + 4.0)
    scenario.fleet.sigcont(frozen)
    scenario.finish(driver)
    check_state(scenario.fleet, single_instance_state(PLAN))


def test_a_fresh_instance_takes_over_existing_keys(
    scenario: Scenario, single_instance_state: StateOf
) -> None:
    needs_working_rebalances(scenario)
    scenario.start(3)
    scenario.finish(scenario.drive(PLAN.commands(), RATE))
    fleet = scenario.fleet
    fleet.start(3, fresh_state=True)
    for i in (0, 1, 2):
        fleet.terminate(i)
    fleet.wait_ready(3)
    follow_up = scenario.drive(PLAN.follow_up(), RATE)
    follow_up.join()
    # Only the newcomer runs now: an agent_not_found here means it started without the state.
    scenario.collector.wait_answered([c.message_id for c in follow_up.commands], 120)
    result = outcome(follow_up.commands, scenario.collector.answers())
    check_outcome(result, broker_kind=scenario.broker_kind, record=scenario.record, fleet=fleet)
    check_state(fleet, single_instance_state(PLAN))


def test_scale_3_to_1_to_3(scenario: Scenario, single_instance_state: StateOf) -> None:
    needs_working_rebalances(scenario)
    scenario.start(3)
    fleet = scenario.fleet
    driver = scenario.drive(PLAN.commands(), RATE)
    driver.wait_sent(len(driver.commands) // 3)
    fleet.terminate(1)
    fleet.terminate(2)
    driver.wait_sent(2 * len(driver.commands) // 3)
    fleet.start(1)
    fleet.start(2)
    fleet.wait_ready(1)
    fleet.wait_ready(2)
    scenario.finish(driver)
    check_state(fleet, single_instance_state(PLAN))


@pytest.mark.slow
def test_rebalance_storm(scenario: Scenario, single_instance_state: StateOf) -> None:
    """An instance joins or leaves every ~3 s for 40 s, while commands keep coming."""
    needs_working_rebalances(scenario)
    scenario.start(3)
    fleet = scenario.fleet
    driver = scenario.drive(STORM_PLAN.commands(), RATE)
    began = time.monotonic()
    step = 0
    while time.monotonic() - began < STORM_S:
        time.sleep(STORM_STEP_S)
        i = step % 3
        running = fleet.running()
        if i in running and len(running) > 1:
            fleet.terminate(i)
        else:
            fleet.start(next(j for j in (i, 0, 1, 2) if j not in running))
        step += 1
    for i in (0, 1, 2):
        if i not in fleet.running():
            fleet.start(i)
    for i in (0, 1, 2):
        fleet.wait_ready(i)
    scenario.finish(driver)
    check_state(fleet, single_instance_state(STORM_PLAN))
