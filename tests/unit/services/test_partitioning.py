"""Key placement agrees with the Java client's murmur2 and librdkafka's crc32."""

from __future__ import annotations

import zlib

import pytest

from clubhouse.services.kafka import KafkaSettings
from clubhouse.services.partitioning import KeyPartitioner, murmur2, partition_for

# Kafka's own test vectors for Utils.murmur2 (signed 32-bit results).
JAVA_MURMUR2 = {
    "21": -973932308,
    "foobar": -790332482,
    "a-little-bit-long-string": -985981536,
    "a-little-bit-longer-string": -1486304829,
    "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    "abc": 479470107,
    "1": -1993445489,
    "12": 126087238,
    "123": -267702483,
    "1234": -1614185708,
    "12345": -1188365604,
}


@pytest.mark.parametrize(("text", "expected"), JAVA_MURMUR2.items())
def test_murmur2_matches_the_java_client(text: str, expected: int) -> None:
    assert murmur2(text.encode()) == expected


def test_partitions_by_murmur2_and_by_crc32() -> None:
    assert partition_for(b"foobar", 7) == (-790332482 & 0x7FFFFFFF) % 7
    assert partition_for(b"foobar", 7, "crc32") == zlib.crc32(b"foobar") % 7
    placer = KeyPartitioner(3, cache_size=2)
    assert [placer.partition(k) for k in (b"a", b"b", b"c", b"a")] == [
        partition_for(k, 3) for k in (b"a", b"b", b"c", b"a")
    ]


def test_the_producer_uses_the_partitioner_the_service_expects() -> None:
    assert KafkaSettings("x:1").producer_config(idempotence=True)["partitioner"] == (
        "murmur2_random"
    )
    crc = KafkaSettings("x:1", partitioner="crc32")
    assert crc.producer_config(idempotence=True)["partitioner"] == "consistent_random"
