"""Fuzzing the HTTP API: whatever arrives, the answer is never a 5xx."""
from __future__ import annotations

import io
import json
from collections.abc import Callable
from urllib.parse import quote

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import KEYS

SEGMENTS = st.text(max_size=40).map(lambda t: quote(t, safe=""))
NAMES = st.sampled_from(["iris-tree", "digits-cnn", "diabetes-linreg", "nope"]) | SEGMENTS
PATHS = st.one_of(
    NAMES.map(lambda n: f"/v1/models/{n}/jobs"),
    NAMES.map(lambda n: f"/v1/models/{n}"),
    SEGMENTS.map(lambda t: f"/v1/jobs/{t}"),
    # /readyz is left out: with no worker on this database its 503 is the right answer.
    st.sampled_from(["/predict", "/classify", "/v1/models", "/healthz"]),
    SEGMENTS.map(lambda t: "/" + t),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=40,
)
BODIES = st.one_of(
    st.builds(lambda rows: {"instances": rows}, JSON),
    st.builds(lambda rows, v: {"instances": rows, "version": v}, st.lists(st.lists(st.floats(), max_size=5), max_size=3), JSON),
    JSON,
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Authorization": st.sampled_from([f"Bearer {KEYS['alice']}", "Bearer nope", ""]) | st.text(max_size=20),
        "Idempotency-Key": st.text(max_size=300),
        "Content-Type": st.sampled_from(["application/json", "text/plain", "multipart/form-data"]),
    },
)


def _safe_header(value: str) -> bool:
    return all(32 <= ord(c) < 127 for c in value)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    path=PATHS,
    query=st.dictionaries(st.sampled_from(["wait", "version", "x"]), st.text(max_size=8), max_size=2),
    headers=HEADERS.map(lambda h: {k: v for k, v in h.items() if _safe_header(v)}),
    body=st.one_of(BODIES.map(json.dumps), st.binary(max_size=200), st.none()),
    files=st.lists(st.binary(max_size=300), max_size=3),
)
def test_no_request_gets_a_server_error(
    keyed_client: Callable[..., FlaskClient],
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: str | bytes | None,
    files: list[bytes],
) -> None:
    client = keyed_client()
    if files and headers.get("Content-Type") == "multipart/form-data":
        data = {"image": [(io.BytesIO(f), f"{i}.png") for i, f in enumerate(files)]}
        headers = {k: v for k, v in headers.items() if k != "Content-Type"}
        response = client.open(path, method=method, query_string=query, headers=headers, data=data)
    else:
        response = client.open(path, method=method, query_string=query, headers=headers, data=body)
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True))
    if response.status_code >= 400:
        assert response.get_json()["error"]["code"]
