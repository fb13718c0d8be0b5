"""Hypothesis-generated requests against a real server process: it never answers 500.

The in-process fuzz (tests/unit/registry/test_api_fuzz.py) covers the app with more
examples; this one adds uvicorn's HTTP parsing and the real socket in between.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import RegistryFactory
from tests.unit.registry.test_api_fuzz import requests

from .conftest import http_client, log_text

pytestmark = pytest.mark.integration


def test_generated_requests_over_http_never_get_a_500(registry_factory: RegistryFactory) -> None:
    server = registry_factory()
    with http_client(server) as http:
        http.post(
            "/subjects/fz-addr/versions",
            json={
                "schema": '{"type":"record","name":"Address","namespace":"geo",'
                '"fields":[{"name":"z","type":"int"}]}'
            },
        )

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(requests())
        def check(request: dict[str, Any]) -> None:
            response = http.request(**request)
            assert response.status_code < 500, (request, response.text)
            if response.status_code >= 400:
                assert isinstance(response.json()["error_code"], int)

        check()
    assert "Traceback" not in log_text(server)
