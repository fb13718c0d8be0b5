"""Service metrics (Prometheus) and the HTTP endpoint that serves them with health checks.

Metrics live in their own CollectorRegistry, passed in, so two services in one process (tests)
never share counters. ``/healthz`` answers while the loop is alive, ``/readyz`` once schemas
are loaded and the consumer runs (and not while consumed records have waited longer than
the stall window without being committed), ``/metrics`` in Prometheus text format.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)


class ServiceMetrics:
    """Per-message-type counters, latency, transactions, and the state of owned partitions."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.messages = Counter(
            "clubhouse_messages_total",
            "Consumed records by message type and outcome.",
            ["message_type", "outcome"],
            registry=self.registry,
        )
        self.published = Counter(
            "clubhouse_published_total",
            "Records published, by topic.",
            ["topic"],
            registry=self.registry,
        )
        self.permanent_failures = Counter(
            "clubhouse_permanent_publish_failures_total",
            "Records the broker refused for good (too large, invalid, not authorized), each "
            "replaced by an error response or a dead letter, or dropped.",
            ["reason"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "clubhouse_processing_seconds",
            "Time from consuming a command to its outputs being acknowledged.",
            ["message_type"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.transactions = Counter(
            "clubhouse_transactions_total",
            "Batch transactions, by outcome: commit, abort (retried) or fenced (left to the "
            "partitions' new owner).",
            ["outcome"],
            registry=self.registry,
        )
        self.commit_seconds = Histogram(
            "clubhouse_transaction_commit_seconds",
            "Time from beginning a batch's transaction to its commit.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.owned_partitions = Gauge(
            "clubhouse_owned_partitions",
            "Commands partitions this instance owns (and holds the state of).",
            registry=self.registry,
        )
        self.restore_lag = Gauge(
            "clubhouse_state_restore_lag_records",
            "Changelog records still to read before a partition being restored is served "
            "(estimated from the partition's end when the restore began).",
            ["partition"],
            registry=self.registry,
        )
        self.restored_records = Counter(
            "clubhouse_state_restored_records_total",
            "Changelog records read to restore partition state.",
            registry=self.registry,
        )
        self.abandoned_handlers = Gauge(
            "clubhouse_handler_threads_abandoned",
            "Handler threads given up at the time limit that never returned.",
            registry=self.registry,
        )
        self.feed_records = Counter(
            "clubhouse_feed_records_total",
            "Records read from the topics event and response handlers follow, by topic and "
            "outcome (routed, or why skipped).",
            ["topic", "outcome"],
            registry=self.registry,
        )
        self.changelog_skipped = Counter(
            "clubhouse_changelog_records_skipped_total",
            "Malformed changelog records a restore skipped, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.restore_seconds = Histogram(
            "clubhouse_state_restore_seconds",
            "Time to restore one partition's state from the changelog.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )


class Health:
    """Liveness and readiness the service loop reports.

    Ready means started, assigned its partitions (none, for a spare) with their state
    restored, and making progress: once consumed records
    have waited longer than ``stall_after_s`` without being committed, the service reports
    not-ready until they are.
    """

    def __init__(
        self, *, stall_after_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ready = threading.Event()
        self._clock = clock
        self._stall_after = stall_after_s
        self._heartbeat = clock()
        self._waiting_since: float | None = None
        self._restoring = False
        self._fatal: str | None = None
        self._lock = threading.Lock()
        self.detail: dict[str, Any] = {}

    def beat(self) -> None:
        """The loop is alive: called once per poll."""
        with self._lock:
            self._heartbeat = self._clock()

    def fail(self, reason: str) -> None:
        """The service cannot go on (a fatal client error): liveness is red from now on."""
        with self._lock:
            self._fatal = reason
        self._ready.clear()

    def set_ready(self, ready: bool) -> None:
        """Started (or stopped) consuming."""
        (self._ready.set if ready else self._ready.clear)()

    def restoring(self, restoring: bool) -> None:
        """Partitions are being assigned and their state restored (not ready), or that is
        done; the first assignment after joining the group counts too."""
        with self._lock:
            self._restoring = restoring
            self._heartbeat = self._clock()

    def working(self) -> None:
        """Records were consumed and wait to be published and committed."""
        with self._lock:
            if self._waiting_since is None:
                self._waiting_since = self._clock()

    def progressed(self) -> None:
        """Everything consumed so far is committed."""
        with self._lock:
            self._waiting_since = None

    @property
    def stalled_for_s(self) -> float:
        """How long consumed records have waited without progress (0 when none wait)."""
        with self._lock:
            since = self._waiting_since
        return 0.0 if since is None else max(0.0, self._clock() - since)

    @property
    def ready(self) -> bool:
        """Started, and not stalled (see the class docstring)."""
        with self._lock:
            restoring = self._restoring
        return self._ready.is_set() and not restoring and self.stalled_for_s < self._stall_after

    def alive(self, stale_after_s: float = 60.0) -> bool:
        """The loop beat within the last ``stale_after_s`` seconds."""
        with self._lock:
            if self._fatal is not None:
                return False
            return self._clock() - self._heartbeat < stale_after_s

    def readiness(self) -> dict[str, Any]:
        """The body of ``/readyz``."""
        body: dict[str, Any] = {"ready": self.ready, **self.detail}
        if self._restoring:
            body["restoring"] = True
        if self._fatal is not None:
            body["fatal"] = self._fatal
        stalled = self.stalled_for_s
        if stalled >= self._stall_after:
            body["stalled_for_s"] = round(stalled, 1)
        return body


# key -> (HTTP status, JSON body): the service's answer to GET /state/{key}
StateLookup = Callable[[str], tuple[int, dict[str, Any]]]


class ObservabilityServer:
    """``/metrics``, ``/healthz`` and ``/readyz`` on a background thread."""

    def __init__(
        self,
        metrics: ServiceMetrics,
        health: Health,
        host: str,
        port: int,
        *,
        state_lookup: StateLookup | None = None,
    ) -> None:
        handler = _handler(metrics, health, state_lookup)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="observability", daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on (the one picked, when 0 was asked for)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve on a background thread."""
        self._thread.start()
        log.info("metrics and health endpoint listening", extra={"port": self.port})

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


def _handler(
    metrics: ServiceMetrics, health: Health, state_lookup: StateLookup | None
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/state/") and state_lookup is not None:
                key = unquote(self.path.removeprefix("/state/"))
                status, body = state_lookup(key)
                self._json(status, body)
            elif self.path == "/metrics":
                self._send(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                ok = health.alive()
                self._json(200 if ok else 503, {"alive": ok})
            elif self.path == "/readyz":
                body = health.readiness()
                self._json(200 if body["ready"] else 503, body)
            else:
                self._json(404, {"error": f"no such path {self.path}"})

        def _json(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Scrapes every few seconds would drown the service's own logs.
            return

    return Handler
