"""Typed Kafka errors; each message names the topic (or setting) involved and the reason.

Transient conditions (a broker restarting, a connection refused) are not errors here:
librdkafka reconnects on its own and the wrappers only log them. What reaches the caller is
what the caller must act on: a record that was not delivered, a commit that did not happen,
a fatal client state, or a configuration mistake.
"""

from __future__ import annotations

from collections.abc import Sequence

from clubhouse.errors import ClubhouseError


class KafkaClientError(ClubhouseError):
    """Base class for the Kafka layer's errors."""


class KafkaConfigError(KafkaClientError):
    """The settings are inconsistent, or librdkafka rejected a configuration property."""


class FatalKafkaError(KafkaClientError):
    """librdkafka raised a fatal error: the client instance cannot be used any more."""

    def __init__(self, client: str, reason: str, code: str) -> None:
        self.code = code
        super().__init__(
            f"the Kafka {client} hit a fatal error: {reason} [{code}]; it cannot be used "
            "any more (KafkaProducer.rebuild() replaces a producer; recreate a consumer)"
        )


class ProduceError(KafkaClientError):
    """A record could not even be queued (too large, queue full until the timeout, ...)."""

    def __init__(self, topic: str, reason: str, code: str | None = None) -> None:
        self.topic = topic
        self.code = code
        suffix = f" [{code}]" if code else ""
        super().__init__(f"could not queue a record for topic {topic!r}: {reason}{suffix}")


class DeliveryError(KafkaClientError):
    """The broker did not acknowledge a record."""

    def __init__(
        self,
        topic: str,
        reason: str,
        *,
        code: str,
        partition: int | None = None,
        retriable: bool = False,
    ) -> None:
        self.topic = topic
        self.reason = reason
        self.code = code
        self.partition = partition
        self.retriable = retriable
        where = f"topic {topic!r}" + (f" partition {partition}" if partition is not None else "")
        super().__init__(f"delivery to {where} failed: {reason} [{code}]")


class DeliveryTimeoutError(DeliveryError):
    """No acknowledgement arrived within the caller's timeout; the record was withdrawn.

    It may still have been written (it was in flight), so re-sending it can duplicate it.
    """

    def __init__(self, topic: str, timeout: float) -> None:
        super().__init__(
            topic,
            f"no acknowledgement within {timeout:g} s (is the broker reachable?)",
            code="TIMED_OUT_WAITING",
            retriable=True,
        )


class BatchDeliveryError(DeliveryError):
    """Some records of a batch were not acknowledged; ``failures`` has one error per record."""

    def __init__(self, failures: Sequence[DeliveryError], total: int) -> None:
        self.failures = tuple(failures)
        first = self.failures[0]
        super().__init__(
            first.topic,
            f"{len(self.failures)} of {total} records were not acknowledged; first: {first.reason}",
            code=first.code,
            partition=first.partition,
            retriable=all(f.retriable for f in self.failures),
        )


class CommitError(KafkaClientError):
    """Offsets were not committed; the records will be delivered again."""

    def __init__(self, reason: str, code: str, *, topics: Sequence[str] = ()) -> None:
        self.code = code
        self.topics = tuple(topics)
        where = f" for {', '.join(sorted(set(topics)))}" if topics else ""
        super().__init__(f"committing offsets{where} failed: {reason} [{code}]")


class ConsumeError(KafkaClientError):
    """The consumer hit an error that retrying will not fix (authorization, offset policy)."""

    def __init__(self, reason: str, code: str, *, topic: str | None = None) -> None:
        self.code = code
        self.topic = topic
        where = f" on topic {topic!r}" if topic else ""
        super().__init__(f"consuming{where} failed: {reason} [{code}]")


class TopicAdminError(KafkaClientError):
    """A topic could not be created or listed."""

    def __init__(self, topic: str | None, reason: str, code: str | None = None) -> None:
        self.topic = topic
        self.code = code
        what = f"topic {topic!r}" if topic else "the topic list"
        suffix = f" [{code}]" if code else ""
        super().__init__(f"admin request for {what} failed: {reason}{suffix}")
