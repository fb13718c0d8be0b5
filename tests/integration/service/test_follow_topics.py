"""``clubhouse events --topic``: any of an app's topics, dead letters with why they were parked."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer

from clubhouse.cli.main import cli
from tests.apps import misbehaving
from tests.integration.service.conftest import Env
from tests.integration.service.test_misbehaving_app import _client, _count

pytestmark = pytest.mark.integration


def _follow(env: Env, topic: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, [
        "events", "--topic", topic, "--from-beginning", "--json", "--idle-timeout", "3",
        "--bootstrap-servers", env.bootstrap, "--schema-registry-url", env.registry_url,
        "--topic-prefix", env.prefix, "--app", "tests.apps.misbehaving:app",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_dead_letters_and_responses_can_be_followed(env: Env) -> None:
    env.start_service(app=misbehaving.app)
    producer = Producer({"bootstrap.servers": env.bootstrap})
    producer.produce(f"{env.prefix}-commands", b"not framed avro", b"k")
    assert producer.flush(30) == 0
    with _client(env) as client:
        assert _count(client, "after-garbage") == 1  # served after the bad record, in order
    dead = _follow(env, "dead-letters")
    assert len(dead) == 1
    assert dead[0]["dead_letter"]["reason"] == "bad_framing"  # type: ignore[index]
    assert "/" in str(dead[0]["dead_letter"]["source"])  # type: ignore[index]
    answers = _follow(env, "responses")
    assert [a["type"] for a in answers] == ["Counted"]  # the same objects as before --topic
