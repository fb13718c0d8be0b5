"""``KafkaSettings``: how to reach a Kafka cluster, turned into librdkafka configuration.

Production keeps librdkafka's defaults. ``dev_tuning`` applies what was measured to help on
the Tansu dev broker (docs/architecture.md, "Tansu and Apache Kafka", and the figures
below); ``extra`` is the escape hatch for any other librdkafka property and wins over
everything computed here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args

from clubhouse.services.kafka_errors import KafkaConfigError
from clubhouse.services.partitioning import LIBRDKAFKA_PARTITIONER, PARTITIONERS, Partitioner

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
AutoOffsetReset = Literal["earliest", "latest", "error"]
IsolationLevel = Literal["read_committed", "read_uncommitted"]

ConfigValue = str | int | float | bool

# Measured on Tansu 0.6 with confluent-kafka 2.16 (2-core box):
#   first group join: 23 s with defaults, 3 s with these two (Tansu waits about half the
#   session timeout before completing the first join);
#   a member that died without leaving delays the next join by about 11 s at these values.
#   session.timeout.ms=2000 / heartbeat.interval.ms=500 would cut those to ~1 s and ~4 s; we
#   keep the documented values, which leave room for heartbeats late on a loaded machine.
# On Apache Kafka 4.1 with group.initial.rebalance.delay.ms=0 (the dev stack's setting) the
#   first join took 0.9 s with the defaults and 0.1 s with these: harmless, kept for both.
DEV_GROUP_TUNING: Mapping[str, ConfigValue] = MappingProxyType(
    {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}
)
# Tansu answers a fetch only when fetch.wait.max.ms expires: round trips are ~250 ms at the
# default 500 and ~7 ms at 10. At 1 they drop to ~2 ms, but an idle consumer then costs ~18 %
# of a core (broker + client) instead of ~8 %, too much on a small dev machine.
# Kafka answers a fetch as soon as data is there: ~3.5 ms round trips at 500 and at 10.
DEV_FETCH_TUNING: Mapping[str, ConfigValue] = MappingProxyType({"fetch.wait.max.ms": 10})
# Tried and left out, because they made no measurable difference on Tansu: linger.ms=0
# (send() flushes, which skips the linger anyway; ~0.4 ms per acknowledged send either way)
# and reconnect.backoff.max.ms=1000 (after a 5 s or 15 s outage, deliveries resumed 1.8 s
# after the restart with and without it).

_SECRET_KEY = re.compile(r"password|secret|token|jaas|\.pem$|key\.pem|credentials", re.IGNORECASE)
REDACTED = "***"

ENV_PREFIX = "KAFKA_"
_ENV_FIELDS = {
    "BOOTSTRAP_SERVERS": "bootstrap_servers",
    "CLIENT_ID": "client_id",
    "SECURITY_PROTOCOL": "security_protocol",
    "SASL_MECHANISM": "sasl_mechanism",
    "SASL_USERNAME": "sasl_username",
    "SASL_PASSWORD": "sasl_password",
    "SSL_CA_LOCATION": "ssl_ca_location",
    "SSL_CERTIFICATE_LOCATION": "ssl_certificate_location",
    "SSL_KEY_LOCATION": "ssl_key_location",
    "SSL_KEY_PASSWORD": "ssl_key_password",
}


def redact_config(conf: Mapping[str, Any]) -> dict[str, str]:
    """``conf`` with every secret-looking value replaced, safe to log."""
    return {k: REDACTED if _SECRET_KEY.search(k) else str(v) for k, v in conf.items()}


@dataclass(frozen=True)
class KafkaSettings:
    """Connection and tuning settings shared by the producer, consumer and admin wrappers.

    ``security_protocol`` may be left out: it is SASL_SSL when SASL credentials are given,
    SSL when only TLS files are, PLAINTEXT otherwise. Secrets never appear in ``repr`` or in
    ``describe()``.
    """

    bootstrap_servers: str
    client_id: str = "clubhouse"
    security_protocol: SecurityProtocol | None = None
    sasl_mechanism: str | None = None  # PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; PLAIN if unset
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: str | None = field(default=None, repr=False)
    dev_tuning: bool = False
    # How producers place keyed records; the service expects each command where this puts it.
    partitioner: Partitioner = "murmur2"
    extra: Mapping[str, ConfigValue] = field(default_factory=dict, repr=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))
        if not self.bootstrap_servers.strip():
            raise KafkaConfigError("bootstrap servers are empty; give host:port[,host:port]")
        if self.partitioner not in PARTITIONERS:
            raise KafkaConfigError(
                f"partitioner {self.partitioner!r} is not one of {', '.join(PARTITIONERS)}"
            )
        if self.security_protocol is not None and self.security_protocol not in get_args(
            SecurityProtocol
        ):
            raise KafkaConfigError(
                f"security protocol {self.security_protocol!r} is not one of "
                f"{', '.join(get_args(SecurityProtocol))}"
            )
        if (self.sasl_username is None) != (self.sasl_password is None):
            raise KafkaConfigError("SASL needs both a username and a password, or neither")
        if self.sasl_username is None and self.sasl_mechanism is not None:
            raise KafkaConfigError(
                f"SASL mechanism {self.sasl_mechanism} was given without a username and password"
            )
        if self.effective_security_protocol.startswith("SASL") and self.sasl_username is None:
            raise KafkaConfigError(
                f"security protocol {self.effective_security_protocol} needs a SASL username "
                "and password"
            )
        if (self.ssl_certificate_location is None) != (self.ssl_key_location is None):
            raise KafkaConfigError(
                "a TLS client certificate needs both the certificate and the key location"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> KafkaSettings:
        """Settings from ``KAFKA_BOOTSTRAP_SERVERS``, ``KAFKA_SASL_USERNAME`` and friends.

        Keyword arguments win over the environment; unset variables keep the defaults.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            name: env[ENV_PREFIX + var]
            for var, name in _ENV_FIELDS.items()
            if env.get(ENV_PREFIX + var)
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "bootstrap_servers" not in values:
            raise KafkaConfigError(
                f"no Kafka bootstrap servers: set {ENV_PREFIX}BOOTSTRAP_SERVERS or pass them"
            )
        return cls(**values)

    @property
    def effective_security_protocol(self) -> SecurityProtocol:
        """The given protocol, or the one the TLS and SASL settings imply."""
        if self.security_protocol is not None:
            return self.security_protocol
        tls = self.ssl_ca_location or self.ssl_certificate_location
        if self.sasl_username is not None:
            return "SASL_SSL"
        return "SSL" if tls else "PLAINTEXT"

    def client_config(self) -> dict[str, ConfigValue]:
        """What every client needs: where the cluster is, who we are, how to authenticate."""
        conf: dict[str, ConfigValue] = {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": self.client_id,
            "security.protocol": self.effective_security_protocol,
        }
        if self.sasl_username is not None and self.sasl_password is not None:
            conf["sasl.mechanism"] = self.sasl_mechanism or "PLAIN"
            conf["sasl.username"] = self.sasl_username
            conf["sasl.password"] = self.sasl_password
        optional = {
            "ssl.ca.location": self.ssl_ca_location,
            "ssl.certificate.location": self.ssl_certificate_location,
            "ssl.key.location": self.ssl_key_location,
            "ssl.key.password": self.ssl_key_password,
        }
        conf.update({k: v for k, v in optional.items() if v is not None})
        return conf

    def producer_config(self, *, idempotence: bool) -> dict[str, ConfigValue]:
        """librdkafka configuration of a producer, ``extra`` applied last."""
        conf = self.client_config()
        conf["enable.idempotence"] = idempotence
        # murmur2 by default, the Java client's: a key lands in the same partition whichever
        # client (Java or librdkafka, whose own default is crc32) produced it.
        conf["partitioner"] = LIBRDKAFKA_PARTITIONER[self.partitioner]
        return self._with_extra(conf)

    def consumer_config(
        self,
        *,
        group_id: str,
        auto_offset_reset: AutoOffsetReset,
        isolation_level: IsolationLevel = "read_committed",
        partition_eof: bool = False,
    ) -> dict[str, ConfigValue]:
        """librdkafka configuration of a consumer in ``group_id``; explicit commits only.

        ``isolation_level`` is always set, so that no consumer relies on a default to skip
        aborted transactions; ``partition_eof`` turns on librdkafka's end-of-partition events.
        """
        conf = self.client_config()
        conf.update(
            {
                "group.id": group_id,
                "enable.auto.commit": False,
                # Offsets are committed explicitly by commit(); nothing is stored behind our back.
                "enable.auto.offset.store": False,
                "auto.offset.reset": auto_offset_reset,
                "isolation.level": isolation_level,
                "enable.partition.eof": partition_eof,
            }
        )
        if self.dev_tuning:
            conf.update(DEV_GROUP_TUNING)
            conf.update(DEV_FETCH_TUNING)
        return self._with_extra(conf)

    def admin_config(self) -> dict[str, ConfigValue]:
        """librdkafka configuration of an admin client."""
        return self._with_extra(self.client_config())

    def describe(self) -> dict[str, str]:
        """The client configuration with secrets redacted, for logs."""
        return redact_config(self._with_extra(self.client_config()))

    def _with_extra(self, conf: dict[str, ConfigValue]) -> dict[str, ConfigValue]:
        conf.update(self.extra)
        return conf
