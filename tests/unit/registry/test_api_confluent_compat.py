"""Paths, shapes and wording that Confluent's own clients and test suites depend on."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from tests.avro_records import record

V1 = record("User", ("id", "long"))
V2 = record("User", ("id", "long"), ("email", "string", ""))
INCOMPATIBLE = record("User", ("id", "string"))
SLASHED = "team%2Forders-value"  # the subject "team/orders-value", as clients send it


def _register(client: TestClient, encoded_subject: str, schema: str = V1) -> int:
    response = client.post(f"/subjects/{encoded_subject}/versions", json={"schema": schema})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


# ---- 1. subjects containing '/' ------------------------------------------------------------


def test_a_subject_with_an_encoded_slash_works_on_every_subject_route(client: TestClient) -> None:
    schema_id = _register(client, SLASHED)
    assert client.get("/subjects").json() == ["team/orders-value"]
    body = {"schema": V1}
    assert client.post(f"/subjects/{SLASHED}", json=body).json()["subject"] == "team/orders-value"
    assert client.get(f"/subjects/{SLASHED}/versions").json() == [1]
    assert client.get(f"/subjects/{SLASHED}/versions/1").json()["id"] == schema_id
    assert json.loads(client.get(f"/subjects/{SLASHED}/versions/latest/schema").text) == (
        json.loads(V1)
    )
    assert client.get(f"/subjects/{SLASHED}/versions/1/referencedby").json() == []
    checked = client.post(f"/compatibility/subjects/{SLASHED}/versions/latest", json=body)
    assert checked.json()["is_compatible"] is True
    assert client.post(f"/compatibility/subjects/{SLASHED}/versions", json=body).status_code == 200
    assert client.put(f"/config/{SLASHED}", json={"compatibility": "NONE"}).status_code == 200
    assert client.get(f"/config/{SLASHED}").json() == {"compatibilityLevel": "NONE"}
    assert client.delete(f"/config/{SLASHED}").status_code == 200
    assert client.put(f"/mode/{SLASHED}", json={"mode": "READWRITE"}).status_code == 200
    assert client.get(f"/mode/{SLASHED}").json() == {"mode": "READWRITE"}
    assert client.delete(f"/mode/{SLASHED}").status_code == 200
    assert client.get(f"/schemas/ids/{schema_id}/subjects").json() == ["team/orders-value"]
    assert client.delete(f"/subjects/{SLASHED}/versions/1").json() == 1
    assert client.delete(f"/subjects/{SLASHED}", params={"permanent": "true"}).json() == [1]


def test_an_encoded_percent_sign_stays_part_of_the_subject(client: TestClient) -> None:
    _register(client, "100%25%2Fdone")
    assert client.get("/subjects").json() == ["100%/done"]
    assert client.get("/subjects/100%25%2Fdone/versions").json() == [1]


def test_a_plain_slash_still_separates_path_segments(client: TestClient) -> None:
    _register(client, "plain")
    response = client.get("/subjects/plain/extra/versions")
    assert response.status_code == 404


# ---- 2. trailing slashes ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/config/", "/subjects/", "/schemas/types/", "/mode/"])
def test_trailing_slashes_are_served_not_redirected(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 200
    assert response.json() == client.get(path.rstrip("/")).json()


def test_trailing_slash_on_writes_and_subject_routes(client: TestClient) -> None:
    put = client.put("/config/", json={"compatibility": "FULL"}, follow_redirects=False)
    assert put.status_code == 200
    assert client.get("/config").json() == {"compatibilityLevel": "FULL"}
    posted = client.post(
        f"/subjects/{SLASHED}/versions/", json={"schema": V1}, follow_redirects=False
    )
    assert posted.status_code == 200
    assert client.get(f"/subjects/{SLASHED}/versions/", follow_redirects=False).json() == [1]


# ---- 3. includeSubjects ----------------------------------------------------------------------


def test_schema_by_id_lists_its_subjects_only_when_asked(client: TestClient) -> None:
    schema_id = _register(client, "b-value")
    _register(client, "a-value")
    plain = client.get(f"/schemas/ids/{schema_id}").json()
    assert "subjects" not in plain
    included = client.get(f"/schemas/ids/{schema_id}", params={"includeSubjects": "True"}).json()
    assert included["subjects"] == ["a-value", "b-value"]
    assert json.loads(included["schema"]) == json.loads(V1)


def test_include_subjects_skips_soft_deleted_versions_unless_deleted_is_set(
    client: TestClient,
) -> None:
    schema_id = _register(client, "a-value")
    _register(client, "b-value")
    assert client.delete("/subjects/b-value").status_code == 200
    url = f"/schemas/ids/{schema_id}"
    assert client.get(url, params={"includeSubjects": "true"}).json()["subjects"] == ["a-value"]
    both = client.get(url, params={"includeSubjects": "true", "deleted": "true"}).json()
    assert both["subjects"] == ["a-value", "b-value"]


# ---- 5. unmatched routes ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nowhere", "/subjects/a/b/c/d", "/schemas/ids/1/nothing"])
def test_an_unmatched_route_answers_like_confluent(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"error_code": 404, "message": "HTTP 404 Not Found"}


def test_an_unsupported_method_answers_like_confluent(client: TestClient) -> None:
    response = client.patch("/subjects")
    assert response.status_code == 405
    assert response.json() == {"error_code": 405, "message": "HTTP 405 Method Not Allowed"}


# ---- 4. Confluent's response shape and wording -----------------------------------------------


def test_compatibility_answers_omit_messages_unless_verbose(client: TestClient) -> None:
    _register(client, "c-value")
    url = "/compatibility/subjects/c-value/versions/latest"
    assert client.post(url, json={"schema": V2}).json() == {"is_compatible": True}
    assert client.post(url, json={"schema": INCOMPATIBLE}).json() == {"is_compatible": False}
    verbose = client.post(url, params={"verbose": "true"}, json={"schema": INCOMPATIBLE}).json()
    assert verbose["is_compatible"] is False
    assert len(verbose["messages"]) == 1


def test_compatibility_with_versions_of_an_unknown_subject(client: TestClient) -> None:
    latest = client.post("/compatibility/subjects/none/versions/latest", json={"schema": V1})
    assert (latest.status_code, latest.json()) == (200, {"is_compatible": True})
    numbered = client.post("/compatibility/subjects/none/versions/3", json={"schema": V1})
    assert numbered.status_code == 404
    assert numbered.json() == {"error_code": 40402, "message": "Version 3 not found."}


def _error(client: TestClient, method: str, url: str, **kwargs: object) -> tuple[int, str]:
    response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
    assert response.status_code >= 400
    body = response.json()
    assert set(body) == {"error_code", "message"}
    return int(body["error_code"]), str(body["message"])


def test_error_messages_use_confluents_wording(client: TestClient) -> None:
    _register(client, SLASHED)
    subject = "team/orders-value"
    assert _error(client, "POST", f"/subjects/{SLASHED}/versions", json={"schema": INCOMPATIBLE})[
        1
    ].startswith(
        "Schema being registered is incompatible with an earlier schema for subject "
        f'"{subject}", details: [BACKWARD: '
    )
    assert _error(client, "GET", f"/subjects/{SLASHED}/versions/0") == (
        42202,
        "The specified version '0' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    )
    assert _error(client, "PUT", "/config", json={"compatibility": "sideways"}) == (
        42203,
        "Invalid compatibility level. Valid values are none, backward, forward, full, "
        "backward_transitive, forward_transitive, and full_transitive",
    )
    assert _error(client, "GET", f"/subjects/{SLASHED}/versions/5") == (
        40402,
        "Version 5 not found.",
    )
    assert _error(client, "GET", "/subjects/nobody/versions") == (
        40401,
        "Subject 'nobody' not found.",
    )
    assert _error(client, "GET", "/schemas/ids/77") == (40403, "Schema 77 not found")
    assert _error(client, "POST", f"/subjects/{SLASHED}", json={"schema": V2}) == (
        40403,
        "Schema not found",
    )
    assert _error(client, "GET", f"/config/{SLASHED}") == (
        40408,
        f"Subject '{subject}' does not have subject-level compatibility configured",
    )
    assert _error(client, "GET", f"/mode/{SLASHED}") == (
        40409,
        f"Subject '{subject}' does not have subject-level mode configured",
    )
    # Blank, on a subject with nothing to register again.
    assert _error(client, "POST", "/subjects/fresh/versions", json={"schema": " "}) == (
        42201,
        "Empty schema",
    )


def test_delete_errors_use_confluents_wording(client: TestClient) -> None:
    _register(client, SLASHED)
    subject = "team/orders-value"
    hard_version = ("DELETE", f"/subjects/{SLASHED}/versions/1", {"params": {"permanent": "true"}})
    assert _error(client, hard_version[0], hard_version[1], **hard_version[2]) == (
        40407,
        f"Subject '{subject}' Version 1 was not deleted first before being permanently deleted",
    )
    assert _error(client, "DELETE", f"/subjects/{SLASHED}", params={"permanent": "true"}) == (
        40405,
        f"Subject '{subject}' was not deleted first before being permanently deleted",
    )
    assert client.delete(f"/subjects/{SLASHED}/versions/1").status_code == 200
    # Confluent's own messages lack the space after the full stop.
    assert _error(client, "DELETE", f"/subjects/{SLASHED}/versions/1") == (
        40406,
        f"Subject '{subject}' Version 1 was soft deleted.Set permanent=true to delete permanently",
    )
    assert _error(client, "DELETE", f"/subjects/{SLASHED}") == (
        40404,
        f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently",
    )


def test_a_non_numeric_schema_id_matches_no_route(client: TestClient) -> None:
    assert _error(client, "GET", "/schemas/ids/abc") == (404, "HTTP 404 Not Found")


@pytest.mark.parametrize(
    ("accept", "answered"),
    [
        ("application/vnd.schemaregistry+json", "application/vnd.schemaregistry+json"),
        ("application/json", "application/json"),
        ("*", "application/vnd.schemaregistry.v1+json"),
        ("*/whatever", "application/vnd.schemaregistry.v1+json"),
        ("text/html, */*; q=0.2", "application/vnd.schemaregistry.v1+json"),
    ],
)
def test_accept_negotiation(client: TestClient, accept: str, answered: str) -> None:
    response = client.get("/subjects", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == answered


def test_unacceptable_and_unsupported_types_answer_with_the_status_line(
    client: TestClient,
) -> None:
    assert _error(client, "GET", "/subjects", headers={"Accept": "text/*"}) == (
        406,
        "HTTP 406 Not Acceptable",
    )
    html = {"Content-Type": "text/html"}
    assert _error(client, "PUT", "/config", content=b"{}", headers=html) == (
        415,
        "HTTP 415 Unsupported Media Type",
    )


def test_a_declared_charset_is_honoured(client: TestClient) -> None:
    body = json.dumps({"compatibility": "NONE"}).encode("utf-16")
    headers = {"Content-Type": "application/vnd.schemaregistry.v1+json; charset=utf-16"}
    response = client.put("/config", content=body, headers=headers)
    assert (response.status_code, response.json()) == (200, {"compatibility": "NONE"})
    unknown = {"Content-Type": "application/json; charset=klingon"}
    refused = client.put("/config", content=b"{}", headers=unknown)
    assert refused.status_code == 415
    assert "klingon" in refused.json()["message"]


# ---- 6. requests without a schema, schemaType, normalize, 409 and 42201 wording ---------------


def test_a_lookup_without_a_schema_answers_404_by_whether_the_subject_exists(
    client: TestClient,
) -> None:
    _register(client, "known")
    for body in ({}, {"schemaType": "AVRO"}):
        known = client.post("/subjects/known", json=body)
        assert (known.status_code, known.json()) == (
            404,
            {"error_code": 40403, "message": "Schema not found"},
        )
        unknown = client.post("/subjects/unknown", json=body)
        assert (unknown.status_code, unknown.json()) == (
            404,
            {"error_code": 40401, "message": "Subject 'unknown' not found."},
        )


def test_registering_without_a_schema_re_registers_the_latest_version(client: TestClient) -> None:
    _register(client, "s", V1)
    latest_id = _register(client, "s", V2)
    answer = client.post("/subjects/s/versions", json={})
    assert (answer.status_code, answer.json()) == (
        200,
        {"id": latest_id, "version": 2, "subject": "s"},
    )
    assert client.get("/subjects/s/versions").json() == [1, 2]
    # A blank schema is a missing one (Confluent trims it and finds it empty).
    blank = client.post("/subjects/s/versions", json={"schema": " \n"})
    assert blank.status_code == 200
    assert blank.json() == {"id": latest_id, "version": 2, "subject": "s"}
    # A subject without versions has nothing to re-register: the schema is missing.
    assert _error(client, "POST", "/subjects/empty/versions", json={})[0] == 42201
    assert _error(client, "POST", "/subjects/empty/versions", json={"schema": ""}) == (
        42201, "Empty schema"
    )  # fmt: skip


def test_schema_type_is_case_sensitive(client: TestClient) -> None:
    code, message = _error(
        client, "POST", "/subjects/s/versions", json={"schema": V1, "schemaType": "avro"}
    )
    assert code == 42201
    assert '"avro"' in message
    accepted = client.post("/subjects/s/versions", json={"schema": V1, "schemaType": "AVRO"})
    assert accepted.status_code == 200


def test_normalize_in_a_config_is_stored_and_returned(client: TestClient) -> None:
    put = client.put("/config", json={"compatibility": "FULL", "normalize": True})
    assert (put.status_code, put.json()) == (200, {"compatibility": "FULL", "normalize": True})
    assert client.get("/config").json() == {"compatibilityLevel": "FULL", "normalize": True}
    subject = client.put("/config/s", json={"compatibility": "NONE", "normalize": False})
    assert subject.json() == {"compatibility": "NONE", "normalize": False}
    assert client.get("/config/s").json() == {"compatibilityLevel": "NONE", "normalize": False}
    assert client.delete("/config/s").status_code == 200
    assert client.get("/config/s", params={"defaultToGlobal": "true"}).json() == {
        "compatibilityLevel": "FULL",
        "normalize": True,
    }
    refused = client.put("/config", json={"normalize": "yes"})
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42203)


def test_a_normalize_config_makes_registrations_normalize(client: TestClient) -> None:
    assert client.put("/config/n", json={"normalize": True}).status_code == 200
    first = client.post("/subjects/n/versions", json={"schema": '{"type": "string"}'})
    again = client.post("/subjects/n/versions", json={"schema": '"string"'})
    assert first.json() == again.json() == {"id": 1, "version": 1, "subject": "n"}


def test_an_incompatible_registration_names_the_level_once(client: TestClient) -> None:
    _register(client, "s")
    code, message = _error(client, "POST", "/subjects/s/versions", json={"schema": INCOMPATIBLE})
    assert code == 409
    assert "BACKWARD: BACKWARD:" not in message
    assert message.count("BACKWARD:") == 1


@pytest.mark.parametrize(
    ("schema", "quoted"),
    [
        (record("R", ("a", {"type": "foo"})), '"foo"'),
        (record("R", ("a", ["null", "long"], {"k": 1})), '{"k":1}'),
        ({"type": "record", "fields": []}, '"name" must be a string, got null'),
        (record("R", ("a", {"type": "map", "values": {"type": "nope"}})), '"nope"'),
    ],
    ids=["unknown-type", "union-default", "no-name", "map-values"],
)
def test_invalid_schema_messages_quote_fragments_as_json(
    client: TestClient, schema: object, quoted: str
) -> None:
    text = schema if isinstance(schema, str) else json.dumps(schema)
    code, message = _error(client, "POST", "/subjects/s/versions", json={"schema": text})
    assert code == 42201
    assert "{'" not in message and "['" not in message, message
    assert quoted in message
