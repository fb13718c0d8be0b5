"""DESIGN §5 against a real server process, driven by confluent-kafka's SchemaRegistryClient.

httpx is used only where the client has no call (or hides the status and body we check).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from clubhouse.devstack import RegistryServer
from tests.avro_records import record
from tests.conftest import RegistryFactory

from .conftest import Subject, http_client, sr_client

pytestmark = pytest.mark.integration


def avro(text: str, references: list[SchemaReference] | None = None) -> Schema:
    return Schema(text, "AVRO", references or [])


def sr_error(call: Callable[[], object]) -> SchemaRegistryError:
    with pytest.raises(SchemaRegistryError) as info:
        call()
    return info.value


V1 = record("User", ("id", "long"))
V2 = record("User", ("id", "long"), ("email", "string", ""))
INCOMPATIBLE = record("User", ("id", "string"))


# ---- ids and versions --------------------------------------------------------------------


def test_same_schema_in_two_subjects_gets_the_same_id(
    session_registry: RegistryServer, subject: Subject
) -> None:
    a = sr_client(session_registry).register_schema(subject("a"), avro(V1))
    b = sr_client(session_registry).register_schema(subject("b"), avro(V1))
    assert a == b
    other = sr_client(session_registry).register_schema(
        subject("c"), avro(record("Other", ("x", "int")))
    )
    assert other != a


def test_registering_again_returns_the_same_id_and_version_and_adds_none(
    session_registry: RegistryServer, subject: Subject
) -> None:
    s = subject()
    first = sr_client(session_registry).register_schema_full_response(s, avro(V1))
    # Reformatted and with keys reordered, it is still the same schema.
    respelled = json.dumps(json.loads(V1), indent=3, sort_keys=True)
    again = sr_client(session_registry).register_schema_full_response(s, avro(respelled))
    assert again.schema_id == first.schema_id
    fresh = sr_client(session_registry)
    assert fresh.get_versions(s) == [1]
    assert fresh.lookup_schema(s, avro(respelled)).version == 1


def test_new_version_is_the_highest_existing_one_plus_one_soft_deleted_included(
    session_registry: RegistryServer, subject: Subject
) -> None:
    s = subject()
    c = sr_client(session_registry)
    c.register_schema(s, avro(V1))
    c.register_schema(s, avro(V2))
    assert c.delete_version(s, 2) == 2
    v3 = record("User", ("id", "long"), ("name", "string", ""))
    sr_client(session_registry).register_schema(s, avro(v3))
    fresh = sr_client(session_registry)
    assert fresh.get_versions(s) == [1, 3]
    assert fresh.get_latest_version(s).version == 3


def test_register_response_carries_id_version_and_subject(
    session_registry: RegistryServer, subject: Subject
) -> None:
    name = subject()
    with http_client(session_registry) as http:
        answer = http.post(f"/subjects/{name}/versions", json={"schema": V1})
        again = http.post(f"/subjects/{name}/versions", json={"schema": V1})
    assert answer.status_code == 200
    assert answer.json() == {"id": answer.json()["id"], "version": 1, "subject": name}
    assert again.json() == answer.json()


def test_normalize_folds_equivalent_spellings_into_one_id(
    session_registry: RegistryServer, subject: Subject
) -> None:
    short = '{"type":"record","name":"ns.N","fields":[{"name":"a","type":"string"}]}'
    long = (
        '{"type":"record","name":"N","namespace":"ns",'
        '"fields":[{"name":"a","type":{"type":"string"}}]}'
    )
    plain_short = sr_client(session_registry).register_schema(subject("p1"), avro(short))
    plain_long = sr_client(session_registry).register_schema(subject("p2"), avro(long))
    assert plain_short != plain_long
    norm_short = sr_client(session_registry).register_schema(subject("n1"), avro(short), True)
    norm_long = sr_client(session_registry).register_schema(subject("n2"), avro(long), True)
    assert norm_short == norm_long
    # Lookup matches by meaning too: the long spelling finds the short one's version.
    found = sr_client(session_registry).lookup_schema(subject("p1"), avro(long))
    assert found.schema_id == plain_short


# ---- compatibility -----------------------------------------------------------------------


def test_incompatible_evolution_is_409_under_backward_and_accepted_under_none(
    session_registry: RegistryServer, subject: Subject
) -> None:
    s = subject()
    c = sr_client(session_registry)
    c.register_schema(s, avro(V1))
    err = sr_error(lambda: sr_client(session_registry).register_schema(s, avro(INCOMPATIBLE)))
    assert err.http_status_code == 409
    assert err.error_code in (409, 40901)
    assert "'id'" in err.error_message
    assert "string not compatible with writer type: long" in err.error_message
    assert sr_client(session_registry).get_versions(s) == [1]
    c.set_compatibility(s, "NONE")
    sr_client(session_registry).register_schema(s, avro(INCOMPATIBLE))
    assert sr_client(session_registry).get_versions(s) == [1, 2]


# v1 has `a`; v2 drops it; v3 brings `a` back as a string with a default. v3 can read
# v2's data but not v1's.
HISTORY = [
    record("H", ("a", "int"), ("k", "string")),
    record("H", ("k", "string")),
]
V3 = record("H", ("k", "string"), ("a", "string", "none"))


def test_transitive_and_non_transitive_levels_differ_on_a_three_version_history(
    session_registry: RegistryServer, subject: Subject
) -> None:
    transitive, plain = subject("transitive"), subject("plain")
    c = sr_client(session_registry)
    for s, level in ((transitive, "BACKWARD_TRANSITIVE"), (plain, "BACKWARD")):
        for text in HISTORY:
            c.register_schema(s, avro(text))
        c.set_compatibility(s, level)
        assert c.get_compatibility(s) == level
    assert not c.test_compatibility_all_versions(transitive, avro(V3))
    assert c.test_compatibility_all_versions(plain, avro(V3))
    err = sr_error(lambda: sr_client(session_registry).register_schema(transitive, avro(V3)))
    assert err.http_status_code == 409
    assert "version 1" in err.error_message
    assert sr_client(session_registry).register_schema(plain, avro(V3)) > 0
    assert sr_client(session_registry).get_versions(plain) == [1, 2, 3]
    assert sr_client(session_registry).get_versions(transitive) == [1, 2]


def test_compatibility_endpoints_answer_200_with_is_compatible_and_verbose_messages(
    session_registry: RegistryServer, subject: Subject
) -> None:
    s = subject()
    c = sr_client(session_registry)
    c.register_schema(s, avro(V1))
    c.register_schema(s, avro(V2))
    assert c.test_compatibility(s, avro(V2), version=1)
    assert not c.test_compatibility(s, avro(INCOMPATIBLE), version="latest")
    with http_client(session_registry) as http:
        answer = http.post(
            f"/compatibility/subjects/{s}/versions/latest",
            params={"verbose": "true"},
            json={"schema": INCOMPATIBLE},
        )
        assert answer.status_code == 200
        body = answer.json()
        assert body["is_compatible"] is False
        (message,) = body["messages"]
        assert "version 2" in message and "'id'" in message and "not compatible" in message
        # Confluent omits "messages" unless the request is verbose.
        terse = http.post(f"/compatibility/subjects/{s}/versions", json={"schema": V2})
        assert terse.json() == {"is_compatible": True}
        missing = http.post(f"/compatibility/subjects/{s}/versions/9", json={"schema": V2})
        assert (missing.status_code, missing.json()["error_code"]) == (404, 40402)
        # A numbered version of an unknown subject is a missing version, as in Confluent.
        nobody = http.post(f"/compatibility/subjects/{s}-none/versions/1", json={"schema": V2})
        assert nobody.status_code == 404
        assert nobody.json() == {"error_code": 40402, "message": "Version 1 not found."}
        bad = http.post(f"/compatibility/subjects/{s}/versions/abc", json={"schema": V2})
        assert (bad.status_code, bad.json()["error_code"]) == (422, 42202)


# ---- lookup and reads --------------------------------------------------------------------


def test_lookup(session_registry: RegistryServer, subject: Subject) -> None:
    s = subject()
    c = sr_client(session_registry)
    schema_id = c.register_schema(s, avro(V1))
    c.register_schema(s, avro(V2))
    found = sr_client(session_registry).lookup_schema(s, avro(V1))
    assert (found.subject, found.version, found.schema_id) == (s, 1, schema_id)
    err = sr_error(lambda: sr_client(session_registry).lookup_schema(subject("none"), avro(V1)))
    assert (err.http_status_code, err.error_code) == (404, 40401)
    other = avro(record("Other", ("x", "int")))
    err = sr_error(lambda: sr_client(session_registry).lookup_schema(s, other))
    assert (err.http_status_code, err.error_code) == (404, 40403)
    # Soft-deleted versions are skipped unless deleted=true.
    c.delete_version(s, 1)
    err = sr_error(lambda: sr_client(session_registry).lookup_schema(s, avro(V1)))
    assert err.error_code == 40403
    assert sr_client(session_registry).lookup_schema(s, avro(V1), deleted=True).version == 1


def test_reading_schemas_by_id(session_registry: RegistryServer, subject: Subject) -> None:
    c = sr_client(session_registry)
    mine = record("ById", ("only_here", "long"))
    schema_id = c.register_schema(subject("a"), avro(mine))
    c.register_schema(subject("b"), avro(mine))
    fetched = sr_client(session_registry).get_schema(schema_id)
    assert json.loads(fetched.schema_str) == json.loads(mine)
    assert sr_client(session_registry).get_subjects_by_schema_id(schema_id) == [
        subject("a"),
        subject("b"),
    ]
    pairs = sr_client(session_registry).get_schema_versions(schema_id)
    assert [(p.subject, p.version) for p in pairs] == [(subject("a"), 1), (subject("b"), 1)]
    assert sr_client(session_registry).get_schema_types() == ["AVRO"]
    err = sr_error(lambda: sr_client(session_registry).get_schema(999_999))
    assert (err.http_status_code, err.error_code) == (404, 40403)
    with http_client(session_registry) as http:
        raw = http.get(f"/schemas/ids/{schema_id}/schema")
        assert json.loads(raw.text) == json.loads(mine)
        # Confluent's id is an integer path parameter, so "abc" matches no route at all.
        assert http.get("/schemas/ids/abc").json()["error_code"] == 404


def test_subjects_and_versions(session_registry: RegistryServer, subject: Subject) -> None:
    s = subject()
    c = sr_client(session_registry)
    c.register_schema(s, avro(V1))
    c.register_schema(s, avro(V2))
    fresh = sr_client(session_registry)
    assert s in fresh.get_subjects()
    assert fresh.get_subjects(subject_prefix=s) == [s]
    assert fresh.get_versions(s) == [1, 2]
    assert fresh.get_version(s, 1).schema_id == fresh.lookup_schema(s, avro(V1)).schema_id
    assert fresh.get_version(s, "latest").version == 2
    assert fresh.get_latest_version(s).version == 2
    err = sr_error(lambda: sr_client(session_registry).get_version(s, 7))
    assert (err.http_status_code, err.error_code) == (404, 40402)
    err = sr_error(lambda: sr_client(session_registry).get_versions(subject("none")))
    assert (err.http_status_code, err.error_code) == (404, 40401)
    for bad in ("abc", "0", "-7", "99999999999"):
        err = sr_error(lambda bad=bad: sr_client(session_registry).get_version(s, bad))  # type: ignore[misc]
        assert (err.http_status_code, err.error_code) == (422, 42202)
    with http_client(session_registry) as http:
        assert http.get(f"/subjects/{s}/versions/-1").json()["version"] == 2
        assert http.get(f"/subjects/{s}/versions", params={"limit": 1}).json() == [1]
        raw = http.get(f"/subjects/{s}/versions/1/schema")
        assert json.loads(raw.text) == json.loads(V1)


# ---- deleting ----------------------------------------------------------------------------


def test_version_delete_rules(session_registry: RegistryServer, subject: Subject) -> None:
    s = subject()
    c = sr_client(session_registry)
    c.register_schema(s, avro(V1))
    id2 = c.register_schema(s, avro(V2))
    # A hard delete needs a soft delete first.
    err = sr_error(lambda: sr_client(session_registry).delete_version(s, 2, permanent=True))
    assert (err.http_status_code, err.error_code) == (404, 40407)
    assert sr_client(session_registry).delete_version(s, 2) == 2
    # Soft-deleted: hidden, still readable with deleted=true, id still resolves.
    fresh = sr_client(session_registry)
    assert fresh.get_versions(s) == [1]
    assert fresh.get_versions(s, deleted=True) == [1, 2]
    assert fresh.get_versions(s, deleted_only=True) == [2]
    assert fresh.get_version(s, 2, deleted=True).schema_id == id2
    assert fresh.get_schema(id2) is not None
    err = sr_error(lambda: sr_client(session_registry).get_version(s, 2))
    assert err.error_code == 40402
    err = sr_error(lambda: sr_client(session_registry).delete_version(s, 2))
    assert (err.http_status_code, err.error_code) == (404, 40406)
    assert sr_client(session_registry).delete_version(s, 2, permanent=True) == 2
    err = sr_error(lambda: sr_client(session_registry).get_version(s, 2, deleted=True))
    assert err.error_code == 40402
    err = sr_error(lambda: sr_client(session_registry).delete_version(s, 5))
    assert err.error_code == 40402
    err = sr_error(lambda: sr_client(session_registry).delete_version(subject("none"), 1))
    assert err.error_code == 40401


def test_subject_delete_rules(session_registry: RegistryServer, subject: Subject) -> None:
    s = subject()
    c = sr_client(session_registry)
    schema_id = c.register_schema(s, avro(V1))
    c.register_schema(s, avro(V2))
    err = sr_error(lambda: sr_client(session_registry).delete_subject(s, permanent=True))
    assert (err.http_status_code, err.error_code) == (404, 40405)
    assert sr_client(session_registry).delete_subject(s) == [1, 2]
    fresh = sr_client(session_registry)
    assert s not in fresh.get_subjects()
    assert s in fresh.get_subjects(deleted=True)
    assert fresh.get_schema(schema_id) is not None
    err = sr_error(lambda: sr_client(session_registry).delete_subject(s))
    assert (err.http_status_code, err.error_code) == (404, 40404)
    assert sr_client(session_registry).delete_subject(s, permanent=True) == [1, 2]
    assert s not in sr_client(session_registry).get_subjects(deleted=True)
    err = sr_error(lambda: sr_client(session_registry).delete_subject(s))
    assert (err.http_status_code, err.error_code) == (404, 40401)
    # Ids are never reused: the same schema registered again gets its old id back.
    assert sr_client(session_registry).register_schema(s, avro(V1)) == schema_id
    assert sr_client(session_registry).get_versions(s) == [1]


# ---- references --------------------------------------------------------------------------

ADDRESS = json.dumps(
    {
        "type": "record",
        "name": "Address",
        "namespace": "geo",
        "fields": [{"name": "zip", "type": "string"}],
    }
)
ORDER = record("Order", ("id", "long"), ("ship_to", "geo.Address"))


def test_references(session_registry: RegistryServer, subject: Subject) -> None:
    addr, order = subject("address"), subject("order-value")
    c = sr_client(session_registry)
    c.register_schema(addr, avro(ADDRESS))
    ref = SchemaReference("geo.Address", addr, 1)
    order_id = c.register_schema(order, avro(ORDER, [ref]))
    fetched = sr_client(session_registry).get_schema(order_id)
    assert [(r.name, r.subject, r.version) for r in fetched.references] == [
        ("geo.Address", addr, 1)
    ]
    assert sr_client(session_registry).get_referenced_by(addr, 1) == [order_id]
    # Without its reference the schema does not parse; a reference to nothing is 42201.
    err = sr_error(lambda: sr_client(session_registry).register_schema(subject("x"), avro(ORDER)))
    assert (err.http_status_code, err.error_code) == (422, 42201)
    dangling = SchemaReference("geo.Address", addr, 9)
    err = sr_error(
        lambda: sr_client(session_registry).register_schema(subject("y"), avro(ORDER, [dangling]))
    )
    assert (err.http_status_code, err.error_code) == (422, 42201)
    assert "does not exist" in err.error_message
    # A referenced version cannot be deleted while a schema uses it.
    err = sr_error(lambda: sr_client(session_registry).delete_version(addr, 1))
    assert (err.http_status_code, err.error_code) == (422, 42206)
    err = sr_error(lambda: sr_client(session_registry).delete_subject(addr))
    assert err.error_code == 42206

    # The serializer resolves the reference through the registry, and so does the reader.
    ser = AvroSerializer(
        sr_client(session_registry),
        avro(ORDER, [ref]),
        conf={"auto.register.schemas": False, "use.latest.version": True},
    )
    value = {"id": 7, "ship_to": {"zip": "1012AB"}}
    ser_ctx = SerializationContext(order.removesuffix("-value"), MessageField.VALUE)
    payload = ser(value, ser_ctx)
    assert payload is not None
    assert int.from_bytes(payload[1:5], "big") == order_id
    assert AvroDeserializer(sr_client(session_registry))(payload, ser_ctx) == value

    # Delete the user first, then the referenced version may go.
    sr_client(session_registry).delete_subject(order)
    assert sr_client(session_registry).delete_version(addr, 1) == 1


# ---- serializer round trip ---------------------------------------------------------------


def test_avro_serializer_to_deserializer_round_trip(
    session_registry: RegistryServer, subject: Subject
) -> None:
    topic = subject("topic")
    schema = json.dumps(
        {
            "type": "record",
            "name": "Reading",
            "namespace": "clubhouse.test",
            "fields": [
                {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
                {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
                {"name": "value", "type": "double"},
                {"name": "tags", "type": {"type": "array", "items": "string"}},
                {"name": "note", "type": ["null", "string"], "default": None},
            ],
        }
    )
    ctx = SerializationContext(topic, MessageField.VALUE)
    serializer = AvroSerializer(sr_client(session_registry), schema)
    import datetime
    import uuid

    value = {
        "id": str(uuid.UUID(int=7)),
        "at": datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC),
        "value": 3.5,
        "tags": ["a", "b"],
        "note": None,
    }
    payload = serializer(value, ctx)
    assert payload is not None and payload[0] == 0
    schema_id = int.from_bytes(payload[1:5], "big")
    assert sr_client(session_registry).get_latest_version(f"{topic}-value").schema_id == schema_id
    decoded = AvroDeserializer(sr_client(session_registry))(payload, ctx)
    assert decoded["value"] == 3.5 and decoded["tags"] == ["a", "b"]
    assert decoded["at"] == value["at"]
    assert str(decoded["id"]) == value["id"]


# ---- config and mode ---------------------------------------------------------------------


def test_subject_config(session_registry: RegistryServer, subject: Subject) -> None:
    s = subject()
    c = sr_client(session_registry)
    with http_client(session_registry) as http:
        missing = http.get(f"/config/{s}")
        assert (missing.status_code, missing.json()["error_code"]) == (404, 40408)
        effective = http.get(f"/config/{s}", params={"defaultToGlobal": "true"})
        assert effective.json() == {"compatibilityLevel": "BACKWARD"}
        lower = http.put(f"/config/{s}", json={"compatibility": "full_transitive"})
        assert lower.json() == {"compatibility": "FULL_TRANSITIVE"}
    assert c.get_compatibility(s) == "FULL_TRANSITIVE"
    err = sr_error(lambda: sr_client(session_registry).set_compatibility(s, "SIDEWAYS"))
    assert (err.http_status_code, err.error_code) == (422, 42203)
    assert (
        sr_client(session_registry).delete_config(s).compatibility_level.value == "FULL_TRANSITIVE"
    )
    err = sr_error(lambda: sr_client(session_registry).delete_config(s))
    assert err.error_code == 40408


def test_subject_modes(session_registry: RegistryServer, subject: Subject) -> None:
    s = subject()
    c = sr_client(session_registry)
    c.register_schema(s, avro(V1))
    with http_client(session_registry) as http:
        missing = http.get(f"/mode/{s}")
        assert (missing.status_code, missing.json()["error_code"]) == (404, 40409)
        assert http.get(f"/mode/{s}", params={"defaultToGlobal": "true"}).json() == {
            "mode": "READWRITE"
        }
    assert c.update_mode(s, "READONLY") == "READONLY"
    assert c.get_mode(s) == "READONLY"
    err = sr_error(lambda: sr_client(session_registry).register_schema(s, avro(V2)))
    assert (err.http_status_code, err.error_code) == (422, 42205)
    err = sr_error(lambda: sr_client(session_registry).delete_version(s, 1))
    assert err.error_code == 42205
    err = sr_error(lambda: sr_client(session_registry).update_mode(s, "SOMETIMES"))
    assert (err.http_status_code, err.error_code) == (422, 42204)
    assert sr_client(session_registry).delete_mode(s) == "READONLY"
    sr_client(session_registry).register_schema(s, avro(V2))
    # Explicit ids and versions belong to IMPORT mode only.
    with http_client(session_registry) as http:
        refused = http.post(f"/subjects/{s}/versions", json={"schema": V1, "id": 5000})
        assert (refused.status_code, refused.json()["error_code"]) == (422, 42205)
        # IMPORT on a subject that already has schemas needs force=true.
        refused = http.put(f"/mode/{s}", json={"mode": "IMPORT"})
        assert refused.json()["error_code"] == 42205
    fresh = subject("import")
    assert sr_client(session_registry).update_mode(fresh, "IMPORT") == "IMPORT"
    with http_client(session_registry) as http:
        imported = http.post(
            f"/subjects/{fresh}/versions",
            json={"schema": INCOMPATIBLE, "id": 5000, "version": 3},
        )
        assert imported.json() == {"id": 5000, "version": 3, "subject": fresh}
        clash = http.post(
            f"/subjects/{fresh}/versions", json={"schema": V1, "id": 5000, "version": 4}
        )
        assert (clash.status_code, clash.json()["error_code"]) == (422, 42207)
    assert sr_client(session_registry).get_versions(fresh) == [3]
    assert sr_client(session_registry).get_version(fresh, 3).schema_id == 5000


def test_global_config_and_mode(registry_factory: RegistryFactory) -> None:
    server = registry_factory()
    c = sr_client(server)
    assert c.get_compatibility() == "BACKWARD"
    assert c.set_compatibility(level="forward") == {"compatibility": "FORWARD"}
    assert sr_client(server).get_config().compatibility_level.value == "FORWARD"
    assert sr_client(server).delete_config().compatibility_level.value == "FORWARD"
    assert sr_client(server).get_compatibility() == "BACKWARD"
    err = sr_error(lambda: sr_client(server).set_compatibility(level="nope"))
    assert err.error_code == 42203

    assert c.get_global_mode() == "READWRITE"
    c.register_schema("s", avro(V1))
    err = sr_error(lambda: sr_client(server).update_global_mode("IMPORT"))
    assert (err.http_status_code, err.error_code) == (422, 42205)
    assert sr_client(server).update_global_mode("IMPORT", force=True) == "IMPORT"
    assert sr_client(server).update_global_mode("READONLY") == "READONLY"
    err = sr_error(lambda: sr_client(server).register_schema("t", avro(V1)))
    assert err.error_code == 42205
    with http_client(server) as http:
        assert http.delete("/mode").json() == {"mode": "READONLY"}
    assert sr_client(server).get_global_mode() == "READWRITE"


# ---- protocol details --------------------------------------------------------------------


def test_only_avro_is_supported(session_registry: RegistryServer, subject: Subject) -> None:
    schema = Schema('{"type": "object"}', "JSON")
    err = sr_error(lambda: sr_client(session_registry).register_schema(subject(), schema))
    assert (err.http_status_code, err.error_code) == (422, 42201)
    assert "only AVRO" in err.error_message


def test_content_types(session_registry: RegistryServer, subject: Subject) -> None:
    sr_v1 = "application/vnd.schemaregistry.v1+json"
    with http_client(session_registry) as http:
        assert http.get("/subjects").headers["content-type"] == sr_v1
        plain = http.get("/subjects", headers={"Accept": "application/json"})
        assert plain.headers["content-type"] == "application/json"
        posted = http.post(
            f"/subjects/{subject()}/versions",
            content=json.dumps({"schema": V1}),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        assert posted.status_code == 200
        assert posted.headers["content-type"] == "application/json"
        refused = http.get("/subjects", headers={"Accept": "text/html"})
        assert (refused.status_code, refused.json()["error_code"]) == (406, 406)
        form = http.post(
            f"/subjects/{subject()}/versions",
            content=b"schema=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert (form.status_code, form.json()["error_code"]) == (415, 415)
        assert http.get("/no/such/path").json()["error_code"] == 404
        wrong = http.put("/subjects")
        assert (wrong.status_code, wrong.json()["error_code"]) == (405, 405)
        assert http.get("/").json() == {}
        assert http.get("/contexts").json() == ["."]


def test_listing_schemas_and_deleted_subjects(
    session_registry: RegistryServer, subject: Subject
) -> None:
    live, gone = subject("live"), subject("gone")
    c = sr_client(session_registry)
    c.register_schema(live, avro(record("Listed", ("a", "int"))))
    c.register_schema(live, avro(record("Listed", ("a", "int"), ("b", "int", 0))))
    c.register_schema(gone, avro(record("Gone", ("g", "int"))))
    c.delete_subject(gone)
    fresh = sr_client(session_registry)
    assert gone in fresh.get_subjects(deleted_only=True)
    assert live not in fresh.get_subjects(deleted_only=True)
    prefix = live.removesuffix("-live")
    with http_client(session_registry) as http:
        listed = http.get("/schemas", params={"subjectPrefix": prefix}).json()
        assert [(s["subject"], s["version"]) for s in listed] == [(live, 1), (live, 2)]
        latest = http.get("/schemas", params={"subjectPrefix": prefix, "latestOnly": "true"})
        assert [(s["subject"], s["version"]) for s in latest.json()] == [(live, 2)]
        with_deleted = http.get("/schemas", params={"subjectPrefix": prefix, "deleted": "true"})
        assert {s["subject"] for s in with_deleted.json()} == {live, gone}


def test_big_schemas_are_parsed_off_the_event_loop_and_still_answered(
    session_registry: RegistryServer, subject: Subject
) -> None:
    s = subject()
    big = json.dumps(
        {
            "type": "record",
            "name": "Big",
            "doc": "x" * 200_000,
            "fields": [{"name": f"f{i}", "type": "long"} for i in range(2000)],
        }
    )
    schema_id = sr_client(session_registry).register_schema(s, avro(big))
    assert sr_client(session_registry).lookup_schema(s, avro(big)).schema_id == schema_id
    assert sr_client(session_registry).register_schema(s, avro(big)) == schema_id
    assert sr_client(session_registry).test_compatibility(s, avro(big))
