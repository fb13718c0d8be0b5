"""librdkafka's error and log callbacks, turned into throttled log lines and a fatal-error latch.

While a broker is down librdkafka reports a connection error, and logs a FAIL line, every few
dozen milliseconds (measured on Tansu: ~20 a second per client). Those are transient: it
reconnects on its own. This module logs the first of each kind, then at most one line per
quiet period with the number of repeats, and remembers a fatal error so that the next call
on the client raises it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clubhouse.services.kafka_errors import FatalKafkaError

LIBRDKAFKA_LOGGER = "clubhouse.kafka.librdkafka"


@dataclass
class _Seen:
    last_logged: float
    suppressed: int = 0


class _Throttle:
    """Lets one event per key through per quiet period; counts the ones it holds back."""

    def __init__(self, quiet_period: float, clock: Callable[[], float]) -> None:
        self._quiet = quiet_period
        self._clock = clock
        self._seen: dict[object, _Seen] = {}

    def admit(self, key: object) -> int | None:
        """None to drop the event, else how many were dropped since the last admitted one."""
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen.last_logged < self._quiet:
            seen.suppressed += 1
            return None
        self._seen[key] = _Seen(last_logged=now)
        return seen.suppressed if seen is not None else 0


class LibrdkafkaLog:
    """Pass an instance as confluent-kafka's ``logger``: librdkafka's own log lines go to
    ``logging`` (instead of raw stderr), each facility at most once per quiet period."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        quiet_period: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger or logging.getLogger(LIBRDKAFKA_LOGGER)
        self._throttle = _Throttle(quiet_period, clock)

    def log(self, level: int, fmt: str, *args: object) -> None:
        """Called by confluent-kafka as ``log(level, "%s [%s] %s", facility, client, text)``."""
        facility = args[0] if args else fmt
        repeats = self._throttle.admit((level, facility))
        if repeats is not None:
            self._log.log(level, fmt, *args, extra={"repeats_since_last_log": repeats})


class ClientErrorMonitor:
    """Pass an instance as librdkafka's ``error_cb``; one per client instance, never shared
    or reused: a replaced client keeps calling its own, and its fatal error stays its own."""

    def __init__(
        self,
        client: str,
        logger: logging.Logger,
        *,
        quiet_period: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._log = logger
        self._throttle = _Throttle(quiet_period, clock)
        self._fatal: FatalKafkaError | None = None

    @property
    def fatal(self) -> FatalKafkaError | None:
        """The fatal error librdkafka reported, or None."""
        return self._fatal

    def __call__(self, error: Any) -> None:
        """librdkafka's error callback: ``error`` is a ``confluent_kafka.KafkaError``."""
        if error.fatal():
            self._fatal = FatalKafkaError(self._client, error.str(), error.name())
            self._log.error(
                "fatal Kafka client error",
                extra={"client": self._client, "code": error.name(), "reason": error.str()},
            )
            return
        self.transient(error.name(), error.str())

    def transient(self, code: str, reason: str, **context: object) -> None:
        """Log a recoverable condition, at most once per quiet period per ``code``."""
        repeats = self._throttle.admit(code)
        if repeats is None:
            return
        self._log.warning(
            "Kafka client problem; librdkafka keeps retrying",
            extra={
                "client": self._client,
                "code": code,
                "reason": reason,
                "repeats_since_last_log": repeats,
                **context,
            },
        )

    def raise_if_fatal(self) -> None:
        """Raise the fatal error, if librdkafka reported one."""
        if self._fatal is not None:
            raise self._fatal
