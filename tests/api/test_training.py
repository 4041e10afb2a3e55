"""POST /v1/models/<name>/train: what is refused before a job is queued, and what is accepted.

The app here has no training worker: an accepted job stays queued, and a
refused request must leave the store as it was.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sklearn import datasets

from models.store import ModelStore

IRIS = datasets.load_iris()
IRIS_BODY = {"rows": IRIS.data.tolist(), "targets": IRIS.target.tolist()}


@pytest.fixture
def unchanged(model_store: ModelStore) -> Iterator[None]:
    """Fails the test if the store's models or versions changed."""
    before = {name: model_store.versions(name) for name in model_store.names()}
    yield
    assert {name: model_store.versions(name) for name in model_store.names()} == before


def _csv(text: str, **form: str) -> dict[str, Any]:
    return {"file": (io.BytesIO(text.encode()), "data.csv"), **form}


@pytest.mark.parametrize(
    ("model", "body", "status", "code", "message"),
    [
        ("iris-svm", {"rows": [[1, 2]] * 6, "targets": [0, 1, 2] * 2}, 422, "invalid_input", "iris-svm@1 takes 4"),
        ("iris-svm", {"rows": [[1, 2, 3, 4]] * 3, "targets": [0, 1]}, 422, "invalid_input", "3 values"),
        ("iris-svm", {"rows": [[1, 2, 3, 4]] * 6, "targets": [1] * 6}, 422, "invalid_input", "2 to"),
        ("iris-svm", {"rows": [[1, 2, 3, "x"]] * 6, "targets": [0, 1] * 3}, 422, "invalid_input", "number"),
        ("iris-svm", {"targets": [0, 1]}, 422, "invalid_input", "missing field(s): rows"),
        ("iris-svm", {**IRIS_BODY, "colour": "red"}, 422, "invalid_input", "json 'colour': Unknown field"),
        ("iris-svm", {**IRIS_BODY, "holdout": 0.9}, 422, "invalid_input", "json 'holdout'"),
        ("iris-svm", {**IRIS_BODY, "estimator": "forest"}, 422, "invalid_input", "json 'estimator'"),
        ("iris-svm", {**IRIS_BODY, "estimator": "decision_tree"}, 422, "invalid_input", "is a svm model"),
        ("iris-svm", {**IRIS_BODY, "version": "9"}, 404, "unknown_model", "version '9'"),
        ("digits-cnn", IRIS_BODY, 422, "invalid_input", "only scikit-learn"),
        ("brand-new", IRIS_BODY, 404, "unknown_model", "send 'estimator'"),
    ],
)
@pytest.mark.usefixtures("unchanged")
def test_bad_json_is_refused(
    client: FlaskClient, model: str, body: dict[str, Any], status: int, code: str, message: str
) -> None:
    response = client.post(f"/v1/models/{model}/train", json=body)
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and message in error["message"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_csv("a,b\n1,2\n"), "no target column 'target'"),
        (_csv("a,b\n1,2\n", target="b"), "has 1 values; iris-svm@1 takes 4"),  # a new version keeps the feature count
        (_csv("a,b,c,d,target\n1,2,3,x,0\n"), "column 'd' is not a number"),
        ({"other": (io.BytesIO(b"a,target\n1,0\n"), "data.csv")}, "one CSV part named 'file'"),
        ({"file": (io.BytesIO(b"\xff\xfe\x00a"), "data.csv")}, "not UTF-8"),
        (_csv("a,b,c,d,target\n1,2,3,4,0\n", colour="red"), "'colour': Unknown field"),
    ],
)
@pytest.mark.usefixtures("unchanged")
def test_bad_csv_uploads_are_refused(client: FlaskClient, data: dict[str, Any], message: str) -> None:
    response = client.post("/v1/models/iris-svm/train", data=data)
    assert response.status_code == 422, response.get_json()
    assert message in response.get_json()["error"]["message"]


@pytest.mark.usefixtures("unchanged")
def test_neither_json_nor_multipart_is_415(client: FlaskClient) -> None:
    response = client.post("/v1/models/iris-svm/train", data="1,2", content_type="text/csv")
    assert response.status_code == 415


@pytest.mark.usefixtures("unchanged")
def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/v1/models/iris-svm/train", data="{rows", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_request"


@pytest.mark.usefixtures("unchanged")
def test_too_much_data_is_413(keyed_client: Callable[..., FlaskClient], bearer: Callable) -> None:
    few_rows = keyed_client(PREDQ_MAX_TRAINING_ROWS=100)
    response = few_rows.post("/v1/models/iris-svm/train", json=IRIS_BODY, headers=bearer("alice"))
    assert response.status_code == 413
    assert response.get_json()["error"] == {
        "code": "too_much_training_data", "message": "too many rows: 150 > 100"
    }
    small_bodies = keyed_client(MAX_CONTENT_LENGTH=1_000)
    response = small_bodies.post("/v1/models/iris-svm/train", json=IRIS_BODY, headers=bearer("alice"))
    assert response.status_code == 413


@pytest.mark.usefixtures("unchanged")
def test_training_needs_an_api_key(keyed_client: Callable[..., FlaskClient]) -> None:
    response = keyed_client().post("/v1/models/iris-svm/train", json=IRIS_BODY)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_accepted_training_is_a_queued_job_of_its_key(
    keyed_client: Callable[..., FlaskClient], bearer: Callable
) -> None:
    client = keyed_client()
    response = client.post("/v1/models/iris-svm/train", json=IRIS_BODY, headers=bearer("alice"))
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert job["status"] == "queued" and job["model"] == "iris-svm"
    assert job["progress"] == {"done": 0, "total": 1}
    assert response.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert client.get(response.headers["Location"], headers=bearer("alice")).get_json() == job
    assert client.get(response.headers["Location"], headers=bearer("bob")).status_code == 404


def test_a_retry_with_the_same_idempotency_key_gets_the_first_job(
    keyed_client: Callable[..., FlaskClient], bearer: Callable
) -> None:
    client = keyed_client()
    headers = {**bearer("alice"), "Idempotency-Key": "fit-once"}
    first = client.post("/v1/models/iris-svm/train", json=IRIS_BODY, headers=headers)
    again = client.post("/v1/models/iris-svm/train", json=IRIS_BODY, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = {**IRIS_BODY, "holdout": 0.1}
    refused = client.post("/v1/models/iris-svm/train", json=other, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "idempotency_key_reused"
