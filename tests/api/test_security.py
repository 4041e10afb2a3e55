"""API keys, job ownership, rate limits, outstanding-job limits and idempotency."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from api.auth import ApiKeys
from worker.dispatch import Submission

Bearer = Callable[[str], dict[str, str]]
IRIS = "/v1/models/iris-tree/jobs"
ROW = {"instances": [[5.1, 3.5, 1.4, 0.2]]}


@pytest.fixture
def client(keyed_client: Callable[..., FlaskClient]) -> FlaskClient:
    return keyed_client()


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong", "Basic YWxpY2U6eA=="])
def test_job_routes_need_a_configured_key(client: FlaskClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for response in (
        client.post(IRIS, json=ROW, headers=headers),
        client.post("/predict", json=ROW, headers=headers),
        client.get("/v1/jobs/any", headers=headers),
        client.delete("/v1/jobs/any", headers=headers),
    ):
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_model_listing_and_probes_stay_public(client: FlaskClient) -> None:
    assert client.get("/v1/models").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_another_owners_job_is_not_found_for_read_wait_and_cancel(
    client: FlaskClient, bearer: Bearer
) -> None:
    job = client.post(IRIS, json=ROW, headers=bearer("alice")).get_json()
    assert job["status"] == "queued"
    path = f"/v1/jobs/{job['id']}"
    for response in (
        client.get(path, headers=bearer("bob")),
        client.get(f"{path}?wait=1", headers=bearer("bob")),
        client.delete(path, headers=bearer("bob")),
    ):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "unknown_job"
    assert client.get(path, headers=bearer("alice")).get_json()["status"] == "queued"
    assert client.delete(path, headers=bearer("alice")).get_json()["status"] == "cancelled"


def test_rate_limit_per_key_answers_429_with_retry_after(
    keyed_client: Callable[..., FlaskClient], bearer: Bearer
) -> None:
    client = keyed_client(PREDQ_RATE_LIMIT="3 per minute")
    codes = [client.get("/v1/jobs/x", headers=bearer("alice")).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    limited = client.get("/v1/jobs/x", headers=bearer("alice"))
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) > 0
    assert client.get("/v1/jobs/x", headers=bearer("bob")).status_code == 404  # bob has his own
    assert client.get("/healthz").status_code == 200  # probes are never limited


def test_outstanding_jobs_per_owner_are_capped(
    keyed_client: Callable[..., FlaskClient], bearer: Bearer
) -> None:
    client = keyed_client(max_outstanding_jobs=2)
    first, second = (client.post(IRIS, json=ROW, headers=bearer("alice")) for _ in range(2))
    assert first.status_code == second.status_code == 202
    refused = client.post(IRIS, json=ROW, headers=bearer("alice"))
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_jobs"
    assert refused.headers["Retry-After"]
    assert client.post(IRIS, json=ROW, headers=bearer("bob")).status_code == 202
    client.delete(f"/v1/jobs/{first.get_json()['id']}", headers=bearer("alice"))
    assert client.post(IRIS, json=ROW, headers=bearer("alice")).status_code == 202


def test_idempotency_key_returns_the_same_job(client: FlaskClient, bearer: Bearer) -> None:
    headers = {**bearer("alice"), "Idempotency-Key": "order-42"}
    first = client.post(IRIS, json=ROW, headers=headers)
    again = client.post(IRIS, json=ROW, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    # the same key from another owner is another request
    other = client.post(IRIS, json=ROW, headers={**bearer("bob"), "Idempotency-Key": "order-42"})
    assert other.get_json()["id"] != first.get_json()["id"]
    # the same key with a different body is a client error, not a silent replay
    changed = client.post(IRIS, json={"instances": [[1, 2, 3, 4]]}, headers=headers)
    assert changed.status_code == 422
    assert changed.get_json()["error"]["code"] == "idempotency_key_reused"


def test_keys_config_is_validated() -> None:
    with pytest.raises(ValueError):
        ApiKeys.parse("keys", "alice:not-a-hash")
    with pytest.raises(ValueError):
        ApiKeys.parse("sometimes", "")


def test_a_key_whose_first_request_is_still_being_accepted_is_409(
    client: FlaskClient, bearer: Bearer
) -> None:
    svc = client.application.extensions["predq"]
    twin = Submission("alice", svc.store.get("iris-tree"), rows=ROW["instances"])
    # What a concurrent twin sees between the first request's claim and its record.
    svc.dispatcher.admission.claim("alice", "order-7", twin.fingerprint(), "no-record-yet")
    response = client.post(IRIS, json=ROW, headers={**bearer("alice"), "Idempotency-Key": "order-7"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_in_flight"
