"""The OpenAPI spec: valid, complete, in step with auth, and the docs page served offline."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from api import create_app
from tests.api.test_errors import assert_error
from worker.settings import Settings

# Static files, the routes serving the spec and its docs page, and the web page
# for people (api/web.py) are not API.
UNDOCUMENTED = re.compile(r"^(static$|api-docs\.|web\.)|\.static$")
IRIS = "/v1/models/iris-tree/jobs"


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def _operations(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every API route in the app's url_map."""
    found = set()
    for rule in app.url_map.iter_rules():
        if UNDOCUMENTED.search(rule.endpoint):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((path, method.lower()))
    return found


def test_the_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_route_is_in_the_spec_with_its_methods(app: Flask, spec: dict[str, Any]) -> None:
    routes = _operations(app)
    assert ("/v1/models/{name}/jobs", "post") in routes  # the enumeration sees the API
    documented = {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    assert routes - documented == set(), "routes missing from the spec: document them with a flask_smorest Blueprint"
    assert documented - routes == set()


def test_every_operation_documents_its_success_and_error_answers(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation.get("summary"), (method, path)
            statuses = set(operation["responses"])
            assert any(s.startswith("2") for s in statuses), (method, path)
            assert "default" in statuses, (method, path)
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["error"] == {"$ref": "#/components/schemas/ErrorDetail"}


def test_submit_documents_both_bodies_and_its_headers(spec: dict[str, Any]) -> None:
    submit = spec["paths"]["/v1/models/{name}/jobs"]["post"]
    assert set(submit["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {p["name"] for p in submit["parameters"]} >= {"Prefer", "Idempotency-Key", "Cache-Control", "version"}
    assert set(submit["responses"]) >= {"200", "202", "400", "401", "404", "409", "413", "415", "422", "429", "503"}
    assert set(submit["responses"]["202"]["headers"]) >= {"Location"}
    assert "Retry-After" in spec["components"]["responses"]["Error429"]["headers"]
    assert "Retry-After" in spec["components"]["responses"]["Error503"]["headers"]
    wait = spec["paths"]["/v1/jobs/{job_id}"]["get"]["parameters"]
    assert [p["name"] for p in wait if p["in"] == "query"] == ["wait"]


def test_documented_security_is_what_the_server_enforces(
    keyed_client: Callable[..., FlaskClient], spec: dict[str, Any]
) -> None:
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["apiKey"]["description"],
    }
    client = keyed_client()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            response = client.open(re.sub(r"{[^}]+}", "x", path), method=method.upper())
            keyed = operation.get("security") == [{"apiKey": []}]
            assert (response.status_code == 401) == keyed, (method, path, response.status_code)
            assert "401" in operation["responses"] or not keyed, (method, path)


def test_the_docs_page_is_served_with_its_assets_from_here(client: FlaskClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and not [a for a in assets if "//" in a], assets  # no CDN: predq may be offline
    for asset in assets:
        assert client.get("/" + asset).status_code == 200, asset
    assert '"/openapi.json"' in html


@pytest.mark.parametrize(
    ("request_args", "status", "code", "names"),
    [
        ({"path": IRIS, "json": {"instances": [[1, 2, 3, 4]], "colour": "red"}}, 422, "invalid_input", "'colour'"),
        ({"path": IRIS, "json": {"instances": [[1, 2, 3, 4]], "version": True}}, 422, "invalid_input", "'version'"),
        ({"path": IRIS, "json": {"instances": "rows"}}, 422, "invalid_input", "'instances'"),
        ({"path": IRIS, "json": {"instances": [[1, 2, 3, 4]]}, "headers": {"Idempotency-Key": "k" * 256}},
         400, "malformed_request", "'Idempotency-Key'"),
        ({"path": "/v1/models/digits-cnn/jobs", "data": {"image": "not a file"}, "content_type": "multipart/form-data"},
         422, "invalid_input", "'image.0'"),
        ({"path": "/v1/jobs/x", "method": "GET", "query_string": {"wait": "soon"}}, 400, "malformed_request", "'wait'"),
    ],
)
def test_a_request_failing_its_schema_gets_the_json_error(
    client: FlaskClient, request_args: dict[str, Any], status: int, code: str, names: str
) -> None:
    response = client.open(method=request_args.pop("method", "POST"), **request_args)
    assert names in assert_error(response, status, code)["message"]


def test_each_app_builds_the_same_spec_of_its_own(settings: Settings, spec: dict[str, Any]) -> None:
    other = create_app({"PREDQ_SETTINGS": settings, "PREDQ_AUTH": "none"})
    assert other.test_client().get("/openapi.json").get_json() == spec
