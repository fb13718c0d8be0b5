"""The `registry` command line: serve (signals, bind safety, auth), export and import."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from clubhouse.devstack import RegistryServer
from clubhouse.devstack.errors import ProcessExitedError
from clubhouse.registry.auth import ENV_VAR, hash_password
from tests.avro_records import record
from tests.conftest import RegistryFactory

from .conftest import log_text, sr_client

pytestmark = pytest.mark.integration


def cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clubhouse.cli.main", "registry", *args],
        check=False,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_logs_its_url_and_stops_cleanly_on_signals(
    registry_factory: RegistryFactory, sig: signal.Signals
) -> None:
    server = registry_factory(stop_signal=sig)
    assert server.url.startswith("http://127.0.0.1:")
    assert server.stop() == 0
    log = log_text(server)
    assert f"schema registry listening url={server.url}" in log
    assert "schema registry stopped" in log
    assert "Traceback" not in log


def test_serve_refuses_a_non_loopback_bind_without_auth(tmp_path: Path) -> None:
    result = cli("serve", "--host", "0.0.0.0", "--port", "0", "--db", str(tmp_path / "r.db"))
    assert result.returncode == 2
    assert "Refusing to listen on 0.0.0.0 without authentication" in result.stderr
    assert "--allow-remote" in result.stderr


def test_serve_reports_a_bad_auth_file_as_a_config_error(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("alice:hunter2\n")
    result = cli(
        "serve", "--port", "0", "--db", str(tmp_path / "r.db"), "--basic-auth-file", str(users)
    )
    assert result.returncode == 2
    assert "line 1" in result.stderr
    assert "hunter2" not in result.stderr


def test_basic_auth_from_a_file_and_from_the_environment(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    entry = f"alice:{hash_password('wonderland', log2_n=10)}"
    users = tmp_path / "users"
    users.write_text(entry + "\n")
    for server in (
        registry_factory(basic_auth_file=users),
        registry_factory(env={ENV_VAR: entry}),
    ):
        with pytest.raises(SchemaRegistryError) as info:
            sr_client(server).get_subjects()
        assert info.value.http_status_code == 401
        with pytest.raises(SchemaRegistryError):
            sr_client(server, **{"basic.auth.user.info": "alice:wrong"}).get_subjects()
        authed = sr_client(server, **{"basic.auth.user.info": "alice:wonderland"})
        assert authed.register_schema("s", Schema(record("A", ("a", "int")), "AVRO")) == 1
        assert "wonderland" not in log_text(server)


def test_hash_password_prints_a_usable_entry() -> None:
    result = cli("hash-password", "bob", "--password", "pw")
    assert result.returncode == 0
    user, _, hashed = result.stdout.strip().partition(":")
    assert user == "bob" and hashed.startswith("$scrypt$")


def test_hash_password_refuses_an_empty_password() -> None:
    result = cli("hash-password", "bob", "--password", "")
    assert result.returncode == 2
    assert "empty" in result.stderr and "$scrypt$" not in result.stdout


def test_hash_password_warns_about_a_short_password_and_still_hashes_it() -> None:
    result = cli("hash-password", "bob", "--password", "short")
    assert result.returncode == 0
    assert "at least 8" in result.stderr and "short" not in result.stdout
    assert result.stdout.startswith("bob:$scrypt$")


def _populate(server: RegistryServer) -> dict[str, int]:
    c = sr_client(server)
    ids = {}
    c.set_compatibility(level="FULL")
    addr = json.dumps(
        {
            "type": "record",
            "name": "Address",
            "namespace": "geo",
            "fields": [{"name": "zip", "type": "string"}],
        }
    )
    ids["addr"] = c.register_schema("addr", Schema(addr, "AVRO"))
    ref = SchemaReference("geo.Address", "addr", 1)
    order = record("Order", ("id", "long"), ("ship_to", "geo.Address"))
    ids["order"] = c.register_schema("orders-value", Schema(order, "AVRO", [ref]))
    c.set_compatibility("users-value", "NONE")
    ids["u1"] = c.register_schema("users-value", Schema(record("User", ("id", "long")), "AVRO"))
    ids["u2"] = c.register_schema("users-value", Schema(record("User", ("id", "string")), "AVRO"))
    ids["u3"] = c.register_schema("users-value", Schema(record("User", ("n", "int")), "AVRO"))
    c.delete_version("users-value", 2)  # soft-deleted version travels too
    c.register_schema("gone", Schema(record("Gone", ("g", "int")), "AVRO"))
    c.delete_subject("gone")
    c.delete_subject("gone", permanent=True)  # a hard-deleted subject does not
    ids["same"] = c.register_schema("copy-value", Schema(record("User", ("id", "long")), "AVRO"))
    c.update_mode("orders-value", "READONLY")
    return ids


def test_export_then_import_into_a_fresh_server_preserves_everything(
    registry_factory: RegistryFactory,
) -> None:
    source = registry_factory()
    ids = _populate(source)
    assert ids["same"] == ids["u1"]
    ctx = SerializationContext("users", MessageField.VALUE)
    payload = AvroSerializer(
        sr_client(source),
        record("User", ("n", "int")),
        conf={"auto.register.schemas": False, "use.latest.version": True},
    )({"n": 5}, ctx)

    exported = cli("export", "--url", source.url)
    assert exported.returncode == 0, exported.stderr
    backup = json.loads(exported.stdout)
    assert "5 subjects" not in exported.stderr  # "gone" was hard-deleted
    assert [s["name"] for s in backup["subjects"]] == [
        "addr",
        "copy-value",
        "orders-value",
        "users-value",
    ]

    target = registry_factory()
    imported = cli("import", "--url", target.url, stdin=exported.stdout)
    assert imported.returncode == 0, imported.stderr
    assert "1 soft-deleted" in imported.stderr

    again = cli("export", "--url", target.url)
    assert json.loads(again.stdout) == backup
    c = sr_client(target)
    for key, schema_id in ids.items():
        assert json.loads(c.get_schema(schema_id).schema_str) == json.loads(
            sr_client(source).get_schema(schema_id).schema_str
        ), key
    assert c.get_versions("users-value") == [1, 3]
    assert c.get_versions("users-value", deleted=True) == [1, 2, 3]
    assert c.get_compatibility() == "FULL"
    assert c.get_compatibility("users-value") == "NONE"
    assert c.get_mode("orders-value") == "READONLY"
    assert c.get_global_mode() == "READWRITE"
    assert AvroDeserializer(sr_client(target))(payload, ctx) == {"n": 5}
    # New registrations continue after the imported ids.
    assert c.register_schema("new", Schema(record("New", ("x", "int")), "AVRO")) > max(ids.values())


def test_import_refuses_a_non_empty_target_unless_forced_and_is_idempotent(
    registry_factory: RegistryFactory,
) -> None:
    source = registry_factory()
    _populate(source)
    backup = cli("export", "--url", source.url).stdout
    refused = cli("import", "--url", source.url, stdin=backup)
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert sr_client(source).get_global_mode() == "READWRITE"  # left as it was
    forced = cli("import", "--url", source.url, "--force", stdin=backup)
    assert forced.returncode == 0, forced.stderr
    assert json.loads(cli("export", "--url", source.url).stdout) == json.loads(backup)


def test_export_and_import_exit_2_when_the_registry_is_unreachable(tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9"
    result = cli("export", "--url", dead)
    assert result.returncode == 2
    assert "cannot reach the schema registry at http://127.0.0.1:9" in result.stderr
    bad = cli("import", "--url", dead, stdin="{}")
    assert bad.returncode == 2
    assert "Not a usable registry backup" in bad.stderr
    not_json = cli("import", "--url", dead, stdin="nope")
    assert not_json.returncode == 2


def test_unready_server_failure_is_reported(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    db = tmp_path / "not-a-db"
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ProcessExitedError) as failed:
        registry_factory(db_path=db)
    assert failed.value.returncode == 2
    assert "Cannot use the registry database" in Path(failed.value.log_path).read_text()


def test_serve_on_a_busy_port_exits_2_without_creating_a_database(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    running = registry_factory()
    db = tmp_path / "second.db"
    result = cli("serve", "--port", str(running.port), "--db", str(db))
    assert result.returncode == 2
    assert "Address already in use" in result.stderr
    assert not db.exists()


def test_export_takes_the_same_connection_options_as_the_other_tools(
    registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    users = tmp_path / "users"
    users.write_text(f"alice:{hash_password('wonderland', log2_n=10)}\n")
    server = registry_factory(basic_auth_file=users)
    authed = sr_client(server, **{"basic.auth.user.info": "alice:wonderland"})
    authed.register_schema("s-value", Schema(record("A", ("a", "int")), "AVRO"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMA_REGISTRY")}
    ok = cli("export", "--schema-registry-url", server.url, "--basic-auth", "alice:wonderland",
             env=env)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert [s["name"] for s in json.loads(ok.stdout)["subjects"]] == ["s-value"]
    from_env = cli("export", "--url", server.url,
                   env=env | {"SCHEMA_REGISTRY_BASIC_AUTH": "alice:wonderland"})  # fmt: skip
    assert from_env.returncode == 0, from_env.stderr
    refused = cli("export", "--url", server.url, "--basic-auth", "alice:wrong", env=env)
    assert refused.returncode == 2
    assert "unauthorized" in refused.stderr and "wrong" not in refused.stderr
