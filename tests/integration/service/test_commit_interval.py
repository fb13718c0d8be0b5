"""``--commit-interval-ms`` on a real broker: the batches polled within the interval commit
in one transaction, each command is answered once, and the state after a restart is exact."""

from __future__ import annotations

import pytest

from tests.apps import misbehaving
from tests.apps.misbehaving import Count, Counted
from tests.integration.service.conftest import Env
from tests.integration.service.test_misbehaving_app import _client

pytestmark = pytest.mark.integration


def test_an_interval_commits_fewer_transactions_and_answers_each_command_once(
    env: Env,
) -> None:
    service = env.start_service(app=misbehaving.app, commit_interval_ms=1000, batch_size=5)
    keys = [f"c{i}" for i in range(5)]
    commands = [Count(key=k) for _ in range(8) for k in keys]  # 40, 8 per key
    with _client(env) as client:
        answers = client.request_many(commands, timeout=60)
    assert len(answers) == len(commands)
    by_key: dict[str, list[int]] = {k: [] for k in keys}
    for command in commands:
        answer = answers[command.message_id]
        assert isinstance(answer, Counted), answer
        by_key[command.key].append(answer.n)
    assert all(sorted(ns) == list(range(1, 9)) for ns in by_key.values()), by_key
    commits = service.metrics.registry.get_sample_value(
        "clubhouse_transactions_total", {"outcome": "commit"}
    )
    assert commits is not None and commits < len(commands) / 5  # fewer than one per batch
    env.stop_services()
    # What was committed is what a restart restores: the next count follows on.
    env.start_service(app=misbehaving.app)
    with _client(env) as client:
        answer = client.request(Count(key="c0"), timeout=60)
    assert isinstance(answer, Counted) and answer.n == 9
