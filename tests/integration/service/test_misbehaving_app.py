"""A user's app that misbehaves in every way, served on a real broker and registry.

Around every bad command, good commands on the same key keep being answered and counting;
each bad command is answered once; producers on either partitioner, and stray changelog
records, change nothing; the service restarts clean.
"""

from __future__ import annotations

import signal
import time

import httpx
import pytest
from confluent_kafka import Producer

from clubhouse.client import ClubhouseClient
from clubhouse.contracts import ErrorResponse, Response
from clubhouse.messaging.entries import Entry, encode_entry
from clubhouse.runtime.changelog import EPOCH_HEADER, changelog_topic
from clubhouse.services.kafka import KafkaSettings
from clubhouse.services.partitioning import partition_for
from clubhouse.services.schema_registry import ConfluentSchemaRegistry, RegistrySettings
from tests.apps import misbehaving
from tests.apps.misbehaving import Count, Counted, Misbehave, NeverDeclaredReply, Stall
from tests.integration.service.conftest import Env, stop_process, wait_for_schemas

pytestmark = pytest.mark.integration

# (how, the error_type that answers it; None: answered normally)
BAD = [
    ("unannotated_reply", None),
    ("undeclared_event", None),
    ("wrong_types", "invalid_output"),
    ("state_list", "handler_error"),
    ("state_string", "handler_error"),
    ("state_deep", "handler_error"),
    ("state_not_json", "handler_error"),
    ("exit", "handler_error"),
    ("interrupt", "handler_error"),
    ("raise_text", "handler_error"),
    ("sleep", "handler_timeout"),
]


def _client(env: Env, kafka: KafkaSettings | None = None) -> ClubhouseClient:
    registry = ConfluentSchemaRegistry.from_settings(RegistrySettings(urls=[env.registry_url]))
    return ClubhouseClient.connect(kafka or env.kafka, registry, topic_prefix=env.prefix,
                                   app=misbehaving.app)  # fmt: skip


def _count(client: ClubhouseClient, key: str) -> int:
    answer = client.request(Count(key=key), timeout=60)
    assert isinstance(answer, Counted), answer
    return answer.n


def _split_key() -> str:
    """A key that murmur2 and crc32 place in different partitions (of 2)."""
    return next(
        k for k in (f"acct-{i}" for i in range(100))
        if partition_for(k.encode(), 2) != partition_for(k.encode(), 2, "crc32")
    )  # fmt: skip


def test_every_misbehaviour_answers_its_own_command_and_the_rest_keeps_serving(env: Env) -> None:
    service = env.start_service(app=misbehaving.app, handler_timeout_s=1.0, metrics_port=0)
    answered: dict[str, Response] = {}
    with _client(env) as client:
        for how, _ in BAD:
            assert _count(client, how) == 1
            bad = Misbehave(key=how, how=how, text="3" if how == "sleep" else "x\ny")
            answered[how] = client.request(bad, timeout=60)
            assert answered[how].in_response_to == bad.message_id
            assert _count(client, how) == 2
        stall = client.request(Stall(key="stall"), timeout=60)
        assert _count(client, "stall") == 1
        # A model first met at run time is registered then; this client does not know it,
        # so only the registry and the next command show it went through.
        client.send(Misbehave(key="late", how="made_at_run_time"))
        assert _count(client, "late") == 1
    subjects = httpx.get(f"{env.registry_url}/subjects").json()
    assert f"{env.prefix}-MadeAtRunTime-value" in subjects
    for how, error_type in BAD:
        reply = answered[how]
        if error_type is None:
            assert not isinstance(reply, ErrorResponse), (how, reply)
        else:
            assert isinstance(reply, ErrorResponse), (how, reply)
            assert reply.error_type == error_type, (how, reply.error_message)
    assert isinstance(answered["unannotated_reply"], NeverDeclaredReply)
    assert isinstance(stall, ErrorResponse) and stall.error_type == "handler_timeout"
    base = f"http://127.0.0.1:{service.metrics_port}"
    assert httpx.get(f"{base}/healthz").status_code == 200
    # Each bad command changed nothing: every key counted exactly its two good commands.
    state = env.changelog_state()
    failed = [how for how, error_type in BAD if error_type is not None]
    assert {how: state[how] for how in failed} == {how: {"n": 2} for how in failed}
    assert state["unannotated_reply"] == {"n": 2, "touched": True}  # it succeeded
    # A clean restart: the same keys count on from where they were.
    env.stop_services()
    env.start_service(app=misbehaving.app, handler_timeout_s=1.0)
    with _client(env) as client:
        assert [_count(client, how) for how, _ in BAD[:3]] == [3, 3, 3]


def test_producers_on_either_partitioner_never_split_a_keys_state(env: Env) -> None:
    env.start_service(app=misbehaving.app)
    key = _split_key()
    crc32 = KafkaSettings(env.bootstrap, dev_tuning=True, partitioner="crc32")
    with _client(env) as murmur, _client(env, crc32) as default_librdkafka:
        counts = [_count(murmur, key) for _ in range(3)]
        counts += [_count(default_librdkafka, key) for _ in range(3)]
        counts.append(_count(murmur, key))
    assert counts == [1, 2, 3, 4, 5, 6, 7]
    assert env.changelog_state()[key] == {"n": 7}


def test_stray_changelog_records_are_skipped_and_counted(env: Env, tmp_path: object) -> None:
    env.start_service(app=misbehaving.app)
    with _client(env) as client:
        assert [_count(client, k) for k in ("s0", "s1", "s2")] == [1, 1, 1]
    env.stop_services()
    good = encode_entry(Entry({"n": 100}))
    strays = [
        (b"\xff\xfe", good, b"1"),  # a key that is not UTF-8
        (b"s0", b"not json", b"99"),  # a value that is no state entry
        (b"s1", b'{"state": [1], "recent": []}', b"99"),
        (b"s2", good, str(2**63 - 1).encode()),  # an epoch that would overflow
        (b"s0", b"\x00garbage", None),  # garbage without an epoch
    ]
    producer = Producer({"bootstrap.servers": env.bootstrap})
    for partition in (0, 1):
        for key, value, epoch in strays:
            headers = [] if epoch is None else [(EPOCH_HEADER, epoch)]
            producer.produce(changelog_topic(env.prefix), value, key, partition=partition,
                             headers=headers)  # fmt: skip
    assert producer.flush(30) == 0
    # A fresh state dir restores every partition from the changelog, strays included.
    service = env.start_service(app=misbehaving.app, state_dir=env.state_dir.parent / "fresh",
                                metrics_port=0)  # fmt: skip
    with _client(env) as client:
        assert [_count(client, k) for k in ("s0", "s1", "s2")] == [2, 2, 2]
    metrics = httpx.get(f"http://127.0.0.1:{service.metrics_port}/metrics").text
    skipped = {
        line.split('reason="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("clubhouse_changelog_records_skipped_total{")
    }
    assert skipped == {"key_not_utf8": 2.0, "value_not_an_entry": 6.0, "epoch_out_of_range": 2.0}


def test_sigterm_stops_the_service_while_a_handler_hangs(env: Env) -> None:
    proc = env.service_process("--app", "tests.apps.misbehaving:app", "--handler-timeout", "600")
    try:
        wait_for_schemas(env, proc)
        client = _client(env)
        with client:
            assert _count(client, "t") == 1
            client.send(Misbehave(key="t", how="sleep", text="600"))
            time.sleep(2)  # the sleeper is in its handler by now, holding its batch
    finally:
        code = stop_process(proc, signal.SIGTERM)  # waits at most 60 s for the exit
    assert code == 0, (env.state_dir.parent / "service.log").read_text()[-3000:]


def test_a_client_connects_with_plain_addresses(env: Env) -> None:
    env.start_service(app=misbehaving.app)
    # Only names `clubhouse` exports, and two strings, as the README shows.
    from clubhouse import ClubhouseClient as Exported

    with Exported.connect(env.bootstrap, env.registry_url, topic_prefix=env.prefix,
                          app=misbehaving.app) as client:  # fmt: skip
        assert _count(client, "plain") == 1
