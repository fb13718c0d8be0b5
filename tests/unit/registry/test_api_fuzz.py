"""Hypothesis-generated requests against the in-process app: never a 500, always a JSON error.

The app runs with ``raise_server_exceptions=True``, so any unhandled exception fails the
test with its traceback instead of hiding behind a 500.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from clubhouse.registry import Registry, Store, create_app
from tests.avro_records import record

ROUTES = {
    "/": ["GET"],
    "/schemas": ["GET"],
    "/schemas/types": ["GET"],
    "/schemas/ids/{id}": ["GET"],
    "/schemas/ids/{id}/schema": ["GET"],
    "/schemas/ids/{id}/subjects": ["GET"],
    "/schemas/ids/{id}/versions": ["GET"],
    "/contexts": ["GET"],
    "/subjects": ["GET"],
    "/subjects/{s}": ["POST", "DELETE"],
    "/subjects/{s}/versions": ["GET", "POST"],
    "/subjects/{s}/versions/{v}": ["GET", "DELETE"],
    "/subjects/{s}/versions/{v}/schema": ["GET"],
    "/subjects/{s}/versions/{v}/referencedby": ["GET"],
    "/compatibility/subjects/{s}/versions": ["POST"],
    "/compatibility/subjects/{s}/versions/{v}": ["POST"],
    "/config": ["GET", "PUT", "DELETE"],
    "/config/{s}": ["GET", "PUT", "DELETE"],
    "/mode": ["GET", "PUT", "DELETE"],
    "/mode/{s}": ["GET", "PUT", "DELETE"],
}
FLAGS = [
    "deleted",
    "permanent",
    "normalize",
    "verbose",
    "defaultToGlobal",
    "force",
    "deleted_only",
    "latestOnly",
]
OTHER_PARAMS = ["offset", "limit", "subjectPrefix", "subject", "format"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
type_names = st.sampled_from(
    [
        "null",
        "int",
        "long",
        "string",
        "bytes",
        "record",
        "enum",
        "array",
        "map",
        "fixed",
        "geo.Address",
        "Nope",
        "boolean",
        "float",
        "double",
    ]
)
avro_like = st.recursive(
    type_names,
    lambda children: (
        st.fixed_dictionaries(
            {"type": type_names | children},
            optional={
                "name": st.sampled_from(["A", "B", "geo.Address", "1bad", ""])
                | st.text(max_size=5),
                "namespace": st.sampled_from(["ns", "", "a.b"]) | json_values,
                "fields": st.lists(
                    st.fixed_dictionaries(
                        {"name": st.sampled_from(["a", "b", "c"]) | json_values, "type": children},
                        optional={"default": json_values, "aliases": json_values},
                    ),
                    max_size=3,
                )
                | json_values,
                "items": children,
                "values": children,
                "symbols": st.lists(st.sampled_from(["X", "Y", "x y"]), max_size=3) | json_values,
                "size": st.integers(-2, 20) | json_values,
                "logicalType": st.sampled_from(["decimal", "uuid", "date", "timestamp-micros"]),
                "precision": st.integers(-2, 40),
                "scale": st.integers(-2, 40),
                "default": json_values,
            },
        )
        | st.lists(children, max_size=3)
    ),
    max_leaves=10,
)
schema_bodies = st.fixed_dictionaries(
    {"schema": avro_like.map(json.dumps) | st.text(max_size=30) | json_values},
    optional={
        "schemaType": st.sampled_from(["AVRO", "avro", "JSON", "PROTOBUF"]) | json_values,
        "references": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.sampled_from(["geo.Address", "x"]) | json_values,
                    "subject": st.sampled_from(["fz-addr", "missing"]) | json_values,
                    "version": st.integers(-1, 3) | json_values,
                }
            ),
            max_size=2,
        )
        | json_values,
        "id": st.integers(-1, 5) | json_values,
        "version": st.integers(-1, 5) | json_values,
    },
)
setting_bodies = st.fixed_dictionaries(
    {},
    optional={
        "compatibility": st.sampled_from(["BACKWARD", "full_transitive", "NONE", "bogus"])
        | json_values,
        "mode": st.sampled_from(["READWRITE", "READONLY", "import", "bogus"]) | json_values,
    },
)
bodies = (
    schema_bodies.map(lambda v: json.dumps(v).encode())
    | st.none()
    | st.binary(max_size=64)
    | json_values.map(lambda v: json.dumps(v).encode())
    | setting_bodies.map(lambda v: json.dumps(v).encode())
)
subjects = st.sampled_from(["fz", "fz", "fz-addr", "missing"]) | st.text(min_size=1, max_size=12)
versions = st.sampled_from(["1", "2", "latest", "-1", "0", "abc"]) | st.text(min_size=1, max_size=5)
ids = st.sampled_from(["1", "2", "3", "0", "x"]) | st.text(min_size=1, max_size=5)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    template = draw(st.sampled_from(sorted(ROUTES)))
    # Mostly the route's own methods, so requests get past routing into the handlers.
    if draw(st.integers(0, 9)):
        method = draw(st.sampled_from(ROUTES[template]))
    else:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
    path = template.format(
        id=quote(draw(ids), safe=""),
        s=quote(draw(subjects), safe=""),
        v=quote(draw(versions), safe=""),
    )
    query = draw(
        st.dictionaries(
            st.sampled_from(FLAGS + OTHER_PARAMS),
            st.sampled_from(["true", "false", "True", "1", "-1", "x", ""]) | st.text(max_size=5),
            max_size=3,
        )
    )
    return {
        "method": method,
        "url": path,
        "params": query,
        "content": draw(bodies),
        "headers": draw(
            st.sampled_from(
                [
                    {"Content-Type": "application/vnd.schemaregistry.v1+json"},
                    {"Content-Type": "application/vnd.schemaregistry.v1+json"},
                    {"Content-Type": "application/json", "Accept": "application/json"},
                    {},
                    {"Content-Type": "text/plain"},
                    {"Accept": "text/html"},
                ]
            )
        ),
    }


def _seeded_client(directory: Path) -> TestClient:
    registry = Registry(Store(directory / "fuzz.db"))
    client = TestClient(create_app(registry, max_body_bytes=4096), raise_server_exceptions=True)
    address = (
        '{"type":"record","name":"Address","namespace":"geo","fields":[{"name":"z","type":"int"}]}'
    )
    client.post("/subjects/fz-addr/versions", json={"schema": address})
    client.post(
        "/subjects/fz/versions",
        json={
            "schema": record("Order", ("ship", "geo.Address")),
            "references": [{"name": "geo.Address", "subject": "fz-addr", "version": 1}],
        },
    )
    client.post(
        "/subjects/fz/versions",
        json={
            "schema": record("Order", ("ship", "geo.Address"), ("n", "int", 0)),
            "references": [{"name": "geo.Address", "subject": "fz-addr", "version": 1}],
        },
    )
    return client


def test_generated_requests_never_get_a_500() -> None:
    with tempfile.TemporaryDirectory() as directory:
        client = _seeded_client(Path(directory))

        @settings(
            max_examples=200,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(requests())
        def check(request: dict[str, Any]) -> None:
            response = client.request(**request)
            assert response.status_code < 500, (request, response.text)
            if response.status_code >= 400:
                body = response.json()
                assert isinstance(body["error_code"], int)
                assert isinstance(body["message"], str) and body["message"]

        check()
        client.close()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(avro_like)
def test_generated_schemas_either_parse_or_are_rejected_with_42201(schema: Any) -> None:
    from clubhouse.registry import canonical
    from clubhouse.registry.errors import ApiError

    try:
        parsed = canonical.parse(json.dumps(schema))
    except ApiError as exc:
        assert (exc.status, exc.error_code) == (422, 42201)
        assert exc.message.startswith("Invalid schema: ")
    else:
        # Whatever is accepted must survive a round trip through its own canonical text.
        assert canonical.parse(parsed.canonical).canonical == parsed.canonical
        assert canonical.parse(parsed.normalized).normalized == parsed.normalized
