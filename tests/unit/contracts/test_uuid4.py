"""The message-id factory makes the same UUIDs as ``uuid.uuid4``."""

from __future__ import annotations

import pickle
import uuid

from clubhouse.agents.messages import ProcessMessageCommand
from clubhouse.contracts.base import uuid4, uuid5_of


def test_uuid4_is_a_random_rfc4122_version_4_uuid_like_the_standard_one() -> None:
    ids = [uuid4() for _ in range(1000)]
    assert len(set(ids)) == 1000
    for uid in ids[:50]:
        assert type(uid) is uuid.UUID
        assert (uid.version, uid.variant, uid.is_safe) == (4, uuid.RFC_4122, uuid.SafeUUID.unknown)
        same = uuid.UUID(str(uid))
        assert same == uid and hash(same) == hash(uid) and same.bytes == uid.bytes
        assert pickle.loads(pickle.dumps(uid)) == uid
    # Every one of the 122 random bits is seen both set and clear.
    fixed = uuid.UUID(int=0, version=4).int
    varying = 0
    for uid in ids:
        varying |= uid.int ^ fixed
    assert bin(varying).count("1") == 122


def test_messages_get_their_ids_from_it() -> None:
    message = ProcessMessageCommand(agent_id="a", content="x")
    assert message.message_id.version == 4
    assert message.message_id != ProcessMessageCommand(agent_id="a", content="x").message_id


def test_uuid5_of_is_uuid5() -> None:
    for i in range(200):
        namespace = uuid.uuid4()
        assert uuid5_of(namespace, str(i)) == uuid.uuid5(namespace, str(i))
