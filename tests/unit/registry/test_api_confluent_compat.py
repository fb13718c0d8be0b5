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
