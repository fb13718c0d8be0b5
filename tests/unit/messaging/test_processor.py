"""The service core without Kafka: decode, dedupe, route, persist, dead-letter."""

from __future__ import annotations

import json
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from fastavro import parse_schema, schemaless_writer

from clubhouse.agents import AgentReply, AgentSpec, builtin_agent_factory
from clubhouse.agents.messages import (
    AgentCreatedResponse,
    AgentDeletedResponse,
    AgentErrorEvent,
    AgentStateChangedEvent,
    AgentThinkingEvent,
    CreateAgentCommand,
    DeleteAgentCommand,
    MessageProcessedResponse,
    ProcessMessageCommand,
    agents_catalog,
)
from clubhouse.application import Dispatcher
from clubhouse.avro import AvroCodec, frame
from clubhouse.contracts import ErrorResponse
from clubhouse.messaging.entries import DedupeWindow
from clubhouse.messaging.processor import (
    DLQ_REASON,
    FORWARDED_HEADER,
    CommandProcessor,
)
from clubhouse.messaging.serde import MessageSerde, SchemaNotRegisteredError
from clubhouse.services.kafka_protocol import ConsumedRecord
from clubhouse.services.partitioning import KeyPartitioner
from clubhouse.services.schema_registry import ConfluentSchemaRegistry
from tests.apps.harness import Harness


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_create_process_delete_flow(h: Harness) -> None:
    create = CreateAgentCommand(agent_id="a1")
    created, changed = h.decode(h.send(create))
    assert isinstance(created, AgentCreatedResponse)
    assert created.in_response_to == create.message_id
    assert (created.agent_name, created.agent_role) == ("Assistant a1", "assistant")
    assert isinstance(changed, AgentStateChangedEvent)
    assert (changed.previous_state, changed.current_state) == (None, "active")

    ask = ProcessMessageCommand(agent_id="a1", content="hello", conversation_id="c1")
    processed = h.send(ask)
    answer, thinking = h.decode(processed)
    assert isinstance(answer, MessageProcessedResponse)
    assert answer.content == "Hello! How can I help you today?"
    assert answer.conversation_id == "c1"
    assert isinstance(thinking, AgentThinkingEvent)
    # Published with the response, in one batch: nothing goes out before the state is stored.
    assert [r.topic for r in processed.records] == ["t-responses", "t-events"]
    assert processed.records[0].key == b"a1"

    deleted, gone = h.decode(h.send(DeleteAgentCommand(agent_id="a1")))
    assert isinstance(deleted, AgentDeletedResponse)
    assert isinstance(gone, AgentStateChangedEvent)
    assert gone.current_state == "deleted"
    assert h.state("a1") is None


def test_unknown_agent_and_duplicate_create_get_error_responses(h: Harness) -> None:
    ask = ProcessMessageCommand(agent_id="ghost", content="x")
    [err] = h.decode(h.send(ask))
    assert isinstance(err, ErrorResponse)
    assert (err.error_type, err.in_response_to) == ("agent_not_found", ask.message_id)
    h.send(CreateAgentCommand(agent_id="a"))
    [dup] = h.decode(h.send(CreateAgentCommand(agent_id="a")))
    assert isinstance(dup, ErrorResponse)
    assert dup.error_type == "agent_exists"
    [bad] = h.decode(h.send(CreateAgentCommand(agent_id="b", personality_type="pirate")))
    assert isinstance(bad, ErrorResponse)
    assert bad.error_type == "unknown_personality"


def test_redelivered_command_has_no_second_effect_but_is_answered_again(h: Harness) -> None:
    create = CreateAgentCommand(agent_id="a")
    first = h.send(create)
    h.send(DeleteAgentCommand(agent_id="a"))
    again = h.send(create)  # redelivery after the agent was deleted
    assert again.kind == "duplicate"
    assert h.state("a") is None  # not re-created
    assert h.decode(again) == h.decode(first)


def test_a_batch_sees_its_own_commands_and_dedupes_within_itself(h: Harness) -> None:
    create = CreateAgentCommand(agent_id="b", personality_type="echo")
    with h.batch():
        created = h.send(create)
        answered = h.send(ProcessMessageCommand(agent_id="b", content="same batch"))
        again = h.send(create)  # redelivered inside the same batch
    assert created.kind == answered.kind == "command"
    answer, _thinking = h.decode(answered)
    assert isinstance(answer, MessageProcessedResponse)
    assert answer.content == "same batch"
    assert again.kind == "duplicate"
    assert h.decode(again) == h.decode(created)


def test_a_failed_batch_stores_nothing(h: Harness) -> None:
    with pytest.raises(RuntimeError), h.batch():
        h.send(CreateAgentCommand(agent_id="lost"))
        raise RuntimeError("crash before the batch was stored")
    assert h.state("lost") is None


def test_garbage_and_unknown_schema_ids_are_dead_lettered(h: Harness) -> None:
    for value, reason in [
        (b"not avro", "bad_framing"),
        (frame(99999, b"\x00"), "unknown_schema_id"),
        (None, "empty"),
    ]:
        processed = h.raw(value)
        assert processed.kind == "dead_letter"
        [record] = processed.records
        assert record.topic == "t-dead-letters"
        assert dict(record.headers)[DLQ_REASON] == reason.encode()
        assert record.value == (value or b"")


def test_truncated_body_is_dead_lettered(h: Harness) -> None:
    good = h.serde.serialize(ProcessMessageCommand(agent_id="a", content="hello"))
    processed = h.raw(good[:12])
    assert processed.kind == "dead_letter"
    assert dict(processed.records[0].headers)[DLQ_REASON] == b"undecodable"


def test_events_on_the_command_topic_are_dead_lettered(h: Harness) -> None:
    processed = h.send(AgentThinkingEvent(agent_id="a"))
    assert dict(processed.records[0].headers)[DLQ_REASON] == b"not_a_command"


def test_malformed_command_gets_an_error_response(h: Harness) -> None:
    bad = ProcessMessageCommand.model_construct(
        **ProcessMessageCommand(agent_id="x", content="c").__dict__ | {"agent_id": ""}
    )
    body = AvroCodec(ProcessMessageCommand).encode(bad)
    processed = h.raw(frame(h.serde.schema_id(ProcessMessageCommand), body))
    assert processed.kind == "invalid"
    [err] = h.decode(processed)
    assert isinstance(err, ErrorResponse)
    assert err.error_type == "invalid_command"
    assert err.in_response_to == bad.message_id
    assert "agent_id" in err.error_message


def test_an_agent_id_longer_than_the_limit_is_refused_and_nothing_is_stored(h: Harness) -> None:
    huge = CreateAgentCommand.model_construct(
        **CreateAgentCommand(agent_id="x").__dict__ | {"agent_id": "a" * 100_000}
    )
    body = AvroCodec(CreateAgentCommand).encode(huge)
    processed = h.raw(frame(h.serde.schema_id(CreateAgentCommand), body), key=b"a" * 16)
    assert processed.kind == "invalid"
    [err] = h.decode(processed)
    assert isinstance(err, ErrorResponse)
    assert err.error_type == "invalid_command"
    assert "256" in err.error_message
    assert processed.records[0].key == b"a" * 16  # keyed like the command it answers
    assert h.partition.store.items() == []


def test_an_error_for_an_unknown_agent_is_keyed_like_its_command(h: Harness) -> None:
    command = ProcessMessageCommand(agent_id="ghost", content="hi")
    processed = h.send(command)
    [record] = processed.records
    assert isinstance(h.serde.deserialize(record.value or b""), ErrorResponse)
    assert record.key == b"ghost"


class Grumpy:
    name, role = "Grumpy", "fails"

    def process(self, content: str, *, conversation_id: str | None,
                metadata: Mapping[str, Any]) -> AgentReply:  # fmt: skip
        raise RuntimeError("no")


def grumpy_factory(spec: AgentSpec) -> Any:
    return Grumpy() if spec.personality_type == "grumpy" else builtin_agent_factory(spec)


def test_failing_agent_yields_agent_error_and_error_response() -> None:
    h = Harness(factory=grumpy_factory)
    h.send(CreateAgentCommand(agent_id="g", personality_type="grumpy"))
    ask = ProcessMessageCommand(agent_id="g", content="hi")
    err, thinking, event = h.decode(h.send(ask))
    assert isinstance(thinking, AgentThinkingEvent)
    assert isinstance(event, AgentErrorEvent)
    assert event.error_message == "RuntimeError: no"
    assert isinstance(err, ErrorResponse)
    assert (err.error_type, err.in_response_to) == ("agent_failed", ask.message_id)


def test_buggy_handler_is_contained(h: Harness) -> None:
    h.app._handlers.pop(DeleteAgentCommand)

    @h.app.command(DeleteAgentCommand, key="agent_id")
    def broken(command: Any, ctx: Any) -> Any:
        ctx.state["half"] = "done"
        raise KeyError("oops")

    h.send(CreateAgentCommand(agent_id="a"))
    cmd = DeleteAgentCommand(agent_id="a")
    [err] = h.decode(h.send(cmd))
    assert isinstance(err, ErrorResponse)
    assert (err.error_type, err.in_response_to) == ("handler_error", cmd.message_id)
    assert err.error_message == "KeyError: 'oops'"
    assert "half" not in (h.state("a") or {})  # what the handler changed is dropped
    [again] = h.decode(h.send(ProcessMessageCommand(agent_id="a", content="hi")))[:1]
    assert isinstance(again, MessageProcessedResponse)


def test_agents_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "agents.db"
    first = Harness(db)
    first.send(CreateAgentCommand(agent_id="keep", personality_type="echo"))
    first.partition.store.close()
    second = Harness(db)
    answer, _ = second.decode(second.send(ProcessMessageCommand(agent_id="keep", content="hey")))
    assert isinstance(answer, MessageProcessedResponse)
    assert answer.content == "hey"


def test_older_schema_version_is_read_into_the_current_model(h: Harness) -> None:
    # v1 of ProcessMessageCommand had no conversation_id: register it as an older version.
    v1 = AvroCodec(ProcessMessageCommand).schema | {}
    v1["fields"] = [f for f in v1["fields"] if f["name"] != "conversation_id"]
    client = h.registry._client
    old_id = client.register_schema("legacy-subject", Schema(json.dumps(v1), "AVRO"))
    h.send(CreateAgentCommand(agent_id="a", personality_type="echo"))
    out = BytesIO()
    cmd = ProcessMessageCommand(agent_id="a", content="from v1")
    datum = {k: v for k, v in cmd.model_dump().items() if k != "conversation_id"}
    datum["message_id"], datum["metadata"] = str(cmd.message_id), "{}"
    schemaless_writer(out, parse_schema(v1), datum)
    answer, _ = h.decode(h.raw(frame(old_id, out.getvalue()), key=b"a"))
    assert isinstance(answer, MessageProcessedResponse)
    assert (answer.content, answer.conversation_id) == ("from v1", None)


def test_clients_fail_clearly_when_schemas_are_missing() -> None:
    client = SchemaRegistryClient.new_client({"url": "mock://empty"})
    serde = MessageSerde(ConfluentSchemaRegistry(client), agents_catalog(), "none")
    with pytest.raises(SchemaNotRegisteredError, match="Run `clubhouse register`"):
        serde.prepare()


def test_a_command_not_keyed_by_its_key_is_forwarded_keyed_right(h: Harness) -> None:
    command = CreateAgentCommand(agent_id="k1")
    value = h.serde.serialize(command)
    for wrong in (None, b"other"):
        processed = h.raw(value, key=wrong)
        assert processed.kind == "forwarded"
        [record] = processed.records
        assert (record.topic, record.key, record.value) == ("t-commands", b"k1", value)
    assert h.state("k1") is None  # acted on only where it lands, keyed right
    assert h.raw(value, key=b"k1").kind == "command"


def test_a_well_keyed_command_in_a_partition_that_does_not_own_its_key_is_forwarded(
    h: Harness,
) -> None:
    # Two partitions by murmur2, as the producer places keys; a crc32 producer (librdkafka's
    # default) or an explicit partition puts this key in the other one.
    placer = KeyPartitioner(2)
    h.processor = CommandProcessor(h.serde, Dispatcher(h.app), "t", partition_of=placer.partition)
    command = CreateAgentCommand(agent_id="acct-3")
    value = h.serde.serialize(command)
    owner = placer.partition(b"acct-3")
    stray = ConsumedRecord("t-commands", 1 - owner, 5, b"acct-3", value)
    processed = h.processor.process(stray, h.partition)
    assert processed.kind == "forwarded"
    [record] = processed.records
    assert (record.topic, record.key, record.value, record.partition) == (
        "t-commands", b"acct-3", value, None,
    )  # fmt: skip
    assert (FORWARDED_HEADER, b"t-commands/%d/5" % (1 - owner)) in record.headers
    assert h.partition.get("acct-3") is None  # no state split: nothing acted here
    # Where the partitioner puts it, it is handled.
    home = ConsumedRecord("t-commands", owner, 6, b"acct-3", value, tuple(record.headers))
    assert h.processor.process(home, h.partition).kind == "command"
    # A forwarded record that lands wrong again (partitions added under the service) is
    # handled where it is rather than sent round for ever.
    again = CreateAgentCommand(agent_id="acct-3")
    looped = ConsumedRecord("t-commands", 1 - owner, 7, b"acct-3", h.serde.serialize(again),
                            ((FORWARDED_HEADER, b"t-commands/0/1"),))  # fmt: skip
    assert h.processor.process(looped, h.partition).kind == "command"


def test_outputs_get_the_same_ids_each_time_a_command_is_handled() -> None:
    create = CreateAgentCommand(agent_id="a")
    one = Harness()
    first = one.decode(one.send(create))
    again = Harness()
    second = again.decode(again.send(create))
    assert [m.message_id for m in first] == [m.message_id for m in second]
    assert len({m.message_id for m in first}) == len(first)
    assert create.message_id not in {m.message_id for m in first}


def test_the_dedupe_window_forgets_beyond_its_count(h: Harness) -> None:
    h.processor = CommandProcessor(h.serde, Dispatcher(h.app), "t", window=DedupeWindow(max_ids=3))
    h.send(CreateAgentCommand(agent_id="w", personality_type="echo"))
    asks = [ProcessMessageCommand(agent_id="w", content=str(i)) for i in range(5)]
    for ask in asks:
        h.send(ask)
    entry = h.partition.get("w")
    assert entry is not None
    assert [r.message_id for r in entry.recent] == [str(a.message_id) for a in asks[:1:-1]]
    assert h.send(asks[4]).kind == "duplicate"
    assert h.send(asks[0]).kind == "command"  # forgotten: handled as new


def test_the_dedupe_window_forgets_after_its_age(h: Harness) -> None:
    now = [1_000_000]
    h.processor = CommandProcessor(
        h.serde, Dispatcher(h.app), "t",
        window=DedupeWindow(max_ids=10, max_age_s=60), now_ms=lambda: now[0],
    )  # fmt: skip
    create = CreateAgentCommand(agent_id="old", personality_type="echo")
    h.send(create)
    now[0] += 61_000
    h.send(ProcessMessageCommand(agent_id="old", content="later"))
    entry = h.partition.get("old")
    assert entry is not None and str(create.message_id) not in [r.message_id for r in entry.recent]


def test_an_id_past_its_window_age_acts_again_even_before_another_command(h: Harness) -> None:
    now = [1_000_000]
    h.processor = CommandProcessor(
        h.serde, Dispatcher(h.app), "t",
        window=DedupeWindow(max_ids=10, max_age_s=60), now_ms=lambda: now[0],
    )  # fmt: skip
    h.send(CreateAgentCommand(agent_id="aged", personality_type="echo"))
    ask = ProcessMessageCommand(agent_id="aged", content="once")
    assert h.send(ask).kind == "command"
    assert h.send(ask).kind == "duplicate"
    now[0] += 61_000  # the window's one rule: at most 10 ids, each for at most 60 s
    assert h.send(ask).kind == "command"


def test_an_id_that_acts_again_after_its_window_gets_new_output_ids(h: Harness) -> None:
    h.processor = CommandProcessor(h.serde, Dispatcher(h.app), "t", window=DedupeWindow(1))
    h.send(CreateAgentCommand(agent_id="r", personality_type="echo"))
    ask = ProcessMessageCommand(agent_id="r", content="again")
    first = h.decode(h.send(ask))[0]
    h.send(ProcessMessageCommand(agent_id="r", content="pushes it out"))
    second = h.decode(h.send(ask))[0]  # a new effect: readers that dedupe by id must see it
    assert first.message_id != second.message_id
    # The same record handled again (a redelivery) keeps its ids.
    redelivered = Harness()
    redelivered.send(CreateAgentCommand(agent_id="r", personality_type="echo"))
    again = redelivered.decode(redelivered.send(ask))[0]
    assert again.message_id == first.message_id


def test_a_reply_that_fits_its_topic_is_published_and_remembered(h: Harness) -> None:
    h.processor = CommandProcessor(h.serde, Dispatcher(h.app), "t",
                                   max_entry_bytes=1_000_000 - 2048)  # fmt: skip
    h.send(CreateAgentCommand(agent_id="big", personality_type="echo"))
    ask = ProcessMessageCommand(agent_id="big", content="z" * 900_000)
    processed = h.send(ask)
    reply = h.decode(processed)[0]
    assert isinstance(reply, MessageProcessedResponse), reply
    assert h.send(ask).records[0].value == processed.records[0].value  # from the stored copy


def test_a_state_too_large_for_its_changelog_record_is_refused(h: Harness) -> None:
    h.processor = CommandProcessor(h.serde, Dispatcher(h.app), "t", max_entry_bytes=600)
    h.send(CreateAgentCommand(agent_id="s", personality_type="echo"))
    before = h.state("s")
    big = CreateAgentCommand(agent_id="s2", personality_type="echo", metadata={"x": "y" * 2000})
    [err] = h.decode(h.send(big))
    assert isinstance(err, ErrorResponse)
    assert err.error_type == "state_too_large"
    assert "over the limit of 600 bytes" in err.error_message
    assert h.state("s2") is None
    assert h.state("s") == before
    assert h.send(big).kind == "duplicate"  # the refusal itself is remembered
