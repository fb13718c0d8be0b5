"""Confluent compatibility details against the real server process (docs/registry-compatibility.md).

Encoded slashes in subjects, trailing slashes, ``includeSubjects``, Confluent's response shapes
and error wording, and the body of an unmatched route.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.error import SchemaRegistryError

from clubhouse.devstack import RegistryServer
from tests.avro_records import record

from .conftest import Subject, http_client, sr_client

pytestmark = pytest.mark.integration

V1 = record("Order", ("id", "long"))
V2 = record("Order", ("id", "long"), ("note", "string", ""))
INCOMPATIBLE = record("Order", ("id", "string"))


def avro(text: str) -> Schema:
    return Schema(text, "AVRO", [])


def test_confluent_client_works_with_a_subject_containing_slashes(
    session_registry: RegistryServer, subject: Subject
) -> None:
    s = subject("team/orders/value")
    c = sr_client(session_registry)
    schema_id = c.register_schema(s, avro(V1))
    assert c.register_schema(s, avro(V2)) != schema_id
    fresh = sr_client(session_registry)
    assert fresh.get_versions(s) == [1, 2]
    assert fresh.get_latest_version(s).version == 2
    assert fresh.get_version(s, 1).schema_id == schema_id
    assert fresh.lookup_schema(s, avro(V1)).version == 1
    assert fresh.test_compatibility(s, avro(V2), version=1)
    assert fresh.set_compatibility(s, "FULL") == {"compatibility": "FULL"}
    assert fresh.get_compatibility(s) == "FULL"
    assert s in fresh.get_subjects()
    assert fresh.delete_version(s, 2) == 2
    assert fresh.delete_subject(s) == [1]
    assert fresh.delete_subject(s, permanent=True) == [1, 2]
    with pytest.raises(SchemaRegistryError) as info:
        sr_client(session_registry).get_versions(s)
    assert info.value.error_code == 40401


def test_trailing_slashes_are_served_without_a_redirect(
    session_registry: RegistryServer, subject: Subject
) -> None:
    s = quote(subject(), safe="")
    with http_client(session_registry) as http:
        registered = http.post(f"/subjects/{s}/versions/", json={"schema": V1})
        assert registered.status_code == 200
        for path in ("/config/", "/subjects/", f"/subjects/{s}/versions/", "/schemas/types/"):
            answer = http.get(path, follow_redirects=False)
            assert answer.status_code == 200, path
            assert answer.json() == http.get(path.rstrip("/")).json(), path
        put = http.put(f"/config/{s}/", json={"compatibility": "NONE"}, follow_redirects=False)
        assert (put.status_code, put.json()) == (200, {"compatibility": "NONE"})


def test_schema_by_id_includes_subjects_on_request(
    session_registry: RegistryServer, subject: Subject
) -> None:
    a, b = subject("a/value"), subject("b-value")
    schema = record("Shared", ("x", "long"), namespace=subject().replace("-", "_"))
    schema_id = sr_client(session_registry).register_schema(a, avro(schema))
    sr_client(session_registry).register_schema(b, avro(schema))
    with http_client(session_registry) as http:
        assert "subjects" not in http.get(f"/schemas/ids/{schema_id}").json()
        body = http.get(f"/schemas/ids/{schema_id}", params={"includeSubjects": "true"}).json()
    assert body["subjects"] == sorted([a, b])


def test_compatibility_answers_and_errors_use_confluents_shape_and_wording(
    session_registry: RegistryServer, subject: Subject
) -> None:
    raw = subject("w/value")
    s = quote(raw, safe="")
    with http_client(session_registry) as http:
        assert http.post(f"/subjects/{s}/versions", json={"schema": V1}).status_code == 200
        terse = http.post(f"/compatibility/subjects/{s}/versions/latest", json={"schema": V2})
        assert terse.json() == {"is_compatible": True}
        fresh = quote(subject("never-registered"), safe="")
        empty = http.post(f"/compatibility/subjects/{fresh}/versions/latest", json={"schema": V2})
        assert (empty.status_code, empty.json()) == (200, {"is_compatible": True})

        refused = http.post(f"/subjects/{s}/versions", json={"schema": INCOMPATIBLE})
        assert refused.status_code == 409
        assert refused.json()["message"].startswith(
            "Schema being registered is incompatible with an earlier schema for subject "
            f'"{raw}", details: [BACKWARD: '
        )
        version = http.get(f"/subjects/{s}/versions/0")
        assert (version.status_code, version.json()) == (
            422,
            {
                "error_code": 42202,
                "message": "The specified version '0' is not a valid version id. "
                'Allowed values are between [1, 2^31-1] and the string "latest"',
            },
        )
        level = http.put("/config/" + s, json={"compatibility": "SIDEWAYS"})
        assert level.status_code == 422
        assert level.json() == {
            "error_code": 42203,
            "message": "Invalid compatibility level. Valid values are none, backward, forward, "
            "full, backward_transitive, forward_transitive, and full_transitive",
        }
        missing = http.get(f"/subjects/{s}/versions/7")
        assert missing.json() == {"error_code": 40402, "message": "Version 7 not found."}
        unset = http.get(f"/config/{s}")
        assert unset.json() == {
            "error_code": 40408,
            "message": f"Subject '{raw}' does not have subject-level compatibility configured",
        }
        hard = http.delete(f"/subjects/{s}", params={"permanent": "true"})
        assert hard.json() == {
            "error_code": 40405,
            "message": f"Subject '{raw}' was not deleted first before being permanently deleted",
        }
        no_id = http.get("/schemas/ids/999999999")
        assert no_id.json() == {"error_code": 40403, "message": "Schema 999999999 not found"}
        blank = http.post(f"/subjects/{s}-fresh/versions", json={"schema": ""})
        assert (blank.status_code, blank.json()) == (
            422,
            {"error_code": 42201, "message": "Empty schema"},
        )


def test_unmatched_routes_answer_confluents_404(session_registry: RegistryServer) -> None:
    with http_client(session_registry) as http:
        for path in ("/no/such/route", "/schemas/ids/not-a-number", "/subjects/a/b/versions"):
            answer = http.get(path)
            assert answer.status_code == 404, path
            assert answer.json() == {"error_code": 404, "message": "HTTP 404 Not Found"}, path
        refused = http.get("/subjects", headers={"Accept": "text/html"})
        assert refused.status_code == 406
        assert refused.json() == {"error_code": 406, "message": "HTTP 406 Not Acceptable"}


def test_requests_without_a_schema_and_schema_type_case_answer_like_confluent(
    session_registry: RegistryServer, subject: Subject
) -> None:
    s = quote(subject(), safe="")
    missing = quote(subject("missing"), safe="")
    with http_client(session_registry) as http:
        assert http.post(f"/subjects/{s}/versions", json={"schema": V1}).status_code == 200
        latest_id = http.post(f"/subjects/{s}/versions", json={"schema": V2}).json()["id"]
        lookup = http.post(f"/subjects/{s}", json={})
        assert (lookup.status_code, lookup.json()["error_code"]) == (404, 40403)
        no_subject = http.post(f"/subjects/{missing}", json={})
        assert (no_subject.status_code, no_subject.json()["error_code"]) == (404, 40401)
        again = http.post(f"/subjects/{s}/versions", json={})
        assert (again.status_code, again.json()["id"], again.json()["version"]) == (
            200,
            latest_id,
            2,
        )
        lower = http.post(f"/subjects/{s}/versions", json={"schema": V1, "schemaType": "avro"})
        assert (lower.status_code, lower.json()["error_code"]) == (422, 42201)
        upper = http.post(f"/subjects/{s}/versions", json={"schema": V1, "schemaType": "AVRO"})
        assert upper.json()["version"] == 1


def test_normalize_config_409_and_invalid_schema_wording(
    session_registry: RegistryServer, subject: Subject
) -> None:
    s = quote(subject(), safe="")
    with http_client(session_registry) as http:
        put = http.put(f"/config/{s}", json={"compatibility": "BACKWARD", "normalize": True})
        assert put.json() == {"compatibility": "BACKWARD", "normalize": True}
        assert http.get(f"/config/{s}").json() == {
            "compatibilityLevel": "BACKWARD",
            "normalize": True,
        }
        assert http.post(f"/subjects/{s}/versions", json={"schema": V1}).status_code == 200
        refused = http.post(f"/subjects/{s}/versions", json={"schema": INCOMPATIBLE}).json()
        assert refused["error_code"] == 409
        assert "BACKWARD: BACKWARD:" not in refused["message"]
        assert refused["message"].count("BACKWARD:") == 1
        bad = record("Order", ("id", ["null", "long"], {"k": 1}))
        invalid = http.post(f"/subjects/{s}/versions", json={"schema": bad}).json()
        assert invalid["error_code"] == 42201
        assert '{"k":1}' in invalid["message"] and "{'" not in invalid["message"]
        assert http.delete(f"/config/{s}").status_code == 200
