"""Which partition of a topic a key belongs to: the same answer the producer's partitioner
gives, so the service can tell a command that a producer put in the wrong partition.

``murmur2`` is the Java client's (and Kafka Streams') default and librdkafka's
``murmur2_random``; ``crc32`` is librdkafka's own default, ``consistent_random``, which a
plain ``confluent_kafka.Producer({})`` and kcat use. Both agree with their clients for any
key; a record without a key has no partition of its own.
"""

from __future__ import annotations

import zlib
from typing import Literal, get_args

Partitioner = Literal["murmur2", "crc32"]
PARTITIONERS: tuple[Partitioner, ...] = get_args(Partitioner)
# librdkafka's names for them, random for records without a key, as both clients do.
LIBRDKAFKA_PARTITIONER: dict[Partitioner, str] = {
    "murmur2": "murmur2_random",
    "crc32": "consistent_random",
}

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_SEED = 0x9747B28C


def murmur2(data: bytes) -> int:
    """Kafka's 32-bit murmur2 of ``data``, as the signed int Java's ``Utils.murmur2`` gives."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    tail = length & ~3
    for i in range(0, tail, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    left = length - tail
    if left == 3:
        h ^= data[tail + 2] << 16
    if left >= 2:
        h ^= data[tail + 1] << 8
    if left >= 1:
        h ^= data[tail]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key: bytes, partitions: int, partitioner: Partitioner = "murmur2") -> int:
    """The partition of ``key`` among ``partitions``, as ``partitioner`` places it."""
    if partitioner == "crc32":
        return zlib.crc32(key) % partitions
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class KeyPartitioner:
    """``partition_for`` of one topic, remembering the keys it has placed (bounded)."""

    def __init__(
        self, partitions: int, partitioner: Partitioner = "murmur2", *, cache_size: int = 100_000
    ) -> None:
        if partitions < 1:
            raise ValueError(f"a topic has at least 1 partition, not {partitions}")
        self.partitions = partitions
        self.partitioner = partitioner
        self._cache: dict[bytes, int] = {}
        self._cache_size = cache_size

    def partition(self, key: bytes) -> int:
        """The partition that owns ``key``."""
        found = self._cache.get(key)
        if found is None:
            found = partition_for(key, self.partitions, self.partitioner)
            if len(self._cache) >= self._cache_size:
                self._cache.clear()  # keys are cheap to place again; memory stays bounded
            self._cache[key] = found
        return found
