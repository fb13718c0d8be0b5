"""Short connect probes, so that a wrong address fails in seconds with the address named.

The registry client retries with a 10 s timeout per request, and librdkafka keeps
reconnecting: left alone, a registry URL that points at the broker's port hangs for tens of
seconds, a dead broker looks like "consuming failed" after twelve, and a web server given
as the broker like "Invalid response size". A probe asks once, briefly, before either
client is built.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from clubhouse.cli.broker_hello import CANNOT_CONNECT, broker_answers
from clubhouse.cli.registry_hello import registry_answers
from clubhouse.services.registry_urls import registry_urls

PROBE_TIMEOUT_S = 2.0


class ProbeError(Exception):
    """Nothing usable answers at an address; the message names it.

    ``refused`` is True when no address accepted a connection at all (the server may still
    be starting), False when one accepted but did not speak the expected protocol.
    """

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``, or a bare host) as a pair."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not port.isdigit():
        return address.strip().strip("[]"), default_port
    return host.strip("[]"), int(port)


def probe_brokers(
    bootstrap_servers: str, *, named_by: str, timeout: float = PROBE_TIMEOUT_S
) -> None:
    """Return if any bootstrap server may be Kafka; else raise ProbeError naming each.

    One that answers with something else (HTTP, say) is caught here, not ten seconds later
    by the client; one that accepts and stays silent is left to the client (see
    ``broker_hello``).
    """
    reasons: list[str] = []
    refused = True
    for address in [a.strip() for a in bootstrap_servers.split(",") if a.strip()]:
        host, port = split_host_port(address, 9092)
        why = broker_answers(host, port, timeout)
        if why is None:
            return
        refused = refused and why.startswith(CANNOT_CONNECT)
        reasons.append(f"{address} {why}")
    where = f"no Kafka broker answers at {bootstrap_servers} ({named_by})"
    if refused:
        message = f"{where}; start one there, or set "
    else:
        message = f"{where}: {'; '.join(reasons)}. Set "
    raise ProbeError(
        message + "--bootstrap-servers / KAFKA_BOOTSTRAP_SERVERS to where yours runs",
        refused=refused,
    )


def probe_registry(urls: str, *, named_by: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Return if any registry URL answers as a registry may (TCP alone for https); else raise
    ProbeError naming each URL and why."""
    reasons: list[str] = []
    refused = True
    for url in registry_urls(urls):
        parts = urlsplit(url)
        https = parts.scheme == "https"
        host = parts.hostname or "localhost"
        port = parts.port or (443 if https else 80)
        if https:
            # The TLS handshake may need client certificates the probe does not have.
            try:
                with socket.create_connection((host, port), timeout=timeout):
                    return
            except OSError as exc:
                reasons.append(f"{parts.scheme}://{host}:{port}: {CANNOT_CONNECT} ({exc.strerror})")
                continue
        why = registry_answers(host, port, parts.path, timeout)
        if why is None:
            return
        refused = refused and why.startswith(CANNOT_CONNECT)
        reasons.append(f"{parts.scheme}://{host}:{port}: {why}")
    raise ProbeError(
        f"cannot reach the schema registry ({named_by}): {'; '.join(reasons)}", refused=refused
    )
