"""A batch is many oracle requests in one round trip, answered one for one and in order."""

from __future__ import annotations

import pytest

from tests.avro_records import record
from tests.java.avro_oracle import AvroOracle, OracleError

pytestmark = pytest.mark.integration

INTS = record("Ints", ("a", "int"))
LONGS = record("Longs", ("a", "long"), aliases=["Ints"])


def test_a_batch_answers_each_request_as_its_own_call_would(avro_oracle: AvroOracle) -> None:
    pairs = [(LONGS, INTS), (INTS, LONGS)]
    assert avro_oracle.compatibilities(pairs) == [avro_oracle.compatibility(*p) for p in pairs]
    body = b"\x04"
    assert avro_oracle.decodes([(INTS, body, None), (INTS, body, LONGS)]) == [
        avro_oracle.decode(INTS, body),
        avro_oracle.decode(INTS, body, LONGS),
    ]
    assert avro_oracle.encodes([(INTS, '{"a": 2}')]) == [body]


def test_a_failing_request_is_answered_in_its_place(avro_oracle: AvroOracle) -> None:
    answers = avro_oracle.decodes([(INTS, b"\x04", None), (INTS, b"", None), (INTS, b"\x06", None)])
    assert answers[0] == ('{"a":2}', b"\x04")
    assert isinstance(answers[1], OracleError)
    assert "EOF" in str(answers[1])
    assert answers[2] == ('{"a":3}', b"\x06")


def test_an_empty_batch_has_no_answers(avro_oracle: AvroOracle) -> None:
    assert avro_oracle.batch([]) == []
