"""KafkaSettings: what reaches librdkafka, and what never reaches a log."""

from __future__ import annotations

import pytest

from clubhouse.services.kafka import KafkaConfigError, KafkaSettings


def test_production_keeps_librdkafka_defaults() -> None:
    conf = KafkaSettings("k:9092").consumer_config(group_id="g", auto_offset_reset="latest")
    assert "session.timeout.ms" not in conf
    assert "heartbeat.interval.ms" not in conf
    assert "fetch.wait.max.ms" not in conf
    assert conf["enable.auto.commit"] is False
    assert conf["auto.offset.reset"] == "latest"
    assert conf["security.protocol"] == "PLAINTEXT"


def test_dev_tuning_sets_the_measured_consumer_settings() -> None:
    settings = KafkaSettings("127.0.0.1:9092", dev_tuning=True)
    conf = settings.consumer_config(group_id="g", auto_offset_reset="earliest")
    assert conf["session.timeout.ms"] == 6000
    assert conf["heartbeat.interval.ms"] == 1000
    assert conf["fetch.wait.max.ms"] == 10
    assert "session.timeout.ms" not in settings.producer_config(idempotence=True)


def test_extra_wins_over_computed_values() -> None:
    settings = KafkaSettings("k:9092", dev_tuning=True, extra={"fetch.wait.max.ms": 1})
    assert (
        settings.consumer_config(group_id="g", auto_offset_reset="earliest")["fetch.wait.max.ms"]
        == 1
    )


def test_producer_idempotence_is_explicit_either_way() -> None:
    settings = KafkaSettings("k:9092")
    assert settings.producer_config(idempotence=True)["enable.idempotence"] is True
    assert settings.producer_config(idempotence=False)["enable.idempotence"] is False


def test_sasl_credentials_imply_sasl_ssl_and_plain() -> None:
    conf = KafkaSettings("k:9093", sasl_username="u", sasl_password="pw").client_config()
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "PLAIN"
    assert conf["sasl.username"] == "u"
    assert conf["sasl.password"] == "pw"


def test_tls_files_imply_ssl() -> None:
    conf = KafkaSettings(
        "k:9093",
        ssl_ca_location="/ca.pem",
        ssl_certificate_location="/c.pem",
        ssl_key_location="/k.pem",
    ).client_config()
    assert conf["security.protocol"] == "SSL"
    assert conf["ssl.ca.location"] == "/ca.pem"
    assert conf["ssl.key.location"] == "/k.pem"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sasl_username": "u"}, "both a username and a password"),
        ({"sasl_mechanism": "SCRAM-SHA-512"}, "without a username"),
        ({"security_protocol": "SASL_SSL"}, "needs a SASL username"),
        ({"ssl_certificate_location": "/c.pem"}, "certificate and the key"),
        ({"security_protocol": "TLS"}, "is not one of"),
    ],
)
def test_inconsistent_security_settings_are_refused(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(KafkaConfigError, match=message):
        KafkaSettings("k:9092", **kwargs)  # type: ignore[arg-type]


def test_secrets_stay_out_of_repr_and_describe() -> None:
    settings = KafkaSettings(
        "k:9093",
        sasl_username="u",
        sasl_password="hunter2",
        ssl_key_password="keypw",
        extra={"sasl.oauthbearer.client.secret": "s3cr3t"},
    )
    text = repr(settings) + repr(settings.describe())
    for secret in ("hunter2", "keypw", "s3cr3t"):
        assert secret not in text
    assert settings.describe()["sasl.username"] == "u"


def test_from_env_reads_kafka_variables() -> None:
    settings = KafkaSettings.from_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "a:9092,b:9092",
            "KAFKA_SASL_USERNAME": "u",
            "KAFKA_SASL_PASSWORD": "p",
            "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
        },
        client_id="svc",
    )
    assert settings.bootstrap_servers == "a:9092,b:9092"
    assert settings.client_id == "svc"
    assert settings.client_config()["sasl.mechanism"] == "SCRAM-SHA-256"


def test_from_env_without_bootstrap_servers_says_what_to_set() -> None:
    with pytest.raises(KafkaConfigError, match="KAFKA_BOOTSTRAP_SERVERS"):
        KafkaSettings.from_env({})


def test_producers_partition_keys_as_the_java_client_does() -> None:
    assert KafkaSettings("k:9092").producer_config(idempotence=True)["partitioner"] == (
        "murmur2_random"
    )


def test_consumers_are_read_committed_by_default() -> None:
    conf = KafkaSettings("k:9092").consumer_config(group_id="g", auto_offset_reset="latest")
    assert conf["isolation.level"] == "read_committed"
    assert conf["enable.partition.eof"] is False
