"""Training as a job, end to end: a real worker on the training queue fits, publishes,
and the new version serves predictions."""
from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sklearn import datasets

from models.store import ModelStore
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration

IRIS = datasets.load_iris()
DIABETES = datasets.load_diabetes()


@pytest.fixture
def store_copy(model_store: ModelStore, tmp_path: Path) -> Path:
    """A copy of the trained store: the session's stays at version 1."""
    shutil.copytree(model_store.root, tmp_path / "store")
    return tmp_path / "store"


@pytest.fixture
def training_stack(stack_factory: Callable[..., Stack], store_copy: Path) -> Stack:
    """A stack on its own store with one worker consuming both tabular and
    training, as ``predq run`` starts it."""
    stack = stack_factory(model_dir=store_copy)
    stack.start_worker("tabular,training")
    return stack


def _finished(stack: Stack, response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.get_json()
    job = stack.wait(response.get_json()["id"])
    assert job["status"] == "succeeded", job
    return job


def _predict(stack: Stack, model: str, rows: list[list[float]], **pin: str) -> list[dict[str, Any]]:
    response = stack.client.post(f"/v1/models/{model}/jobs", json={"instances": rows, **pin})
    return _finished(stack, response)["result"]


def test_iris_rows_train_a_new_svm_version_that_serves(training_stack: Stack) -> None:
    stack = training_stack
    body = {"rows": IRIS.data.tolist(), "targets": IRIS.target.tolist()}
    job = _finished(stack, stack.client.post("/v1/models/iris-svm/train", json=body))
    (outcome,) = job["result"]
    assert outcome["ref"] == "iris-svm@2" and outcome["estimator"] == "svm"
    assert outcome["metrics"]["test_accuracy"] > 0.85 and outcome["metrics"]["n_test"] == 30
    catalog = stack.client.get("/v1/models/iris-svm").get_json()
    assert catalog["versions"] == ["1", "2"] and catalog["latest"]["version"] == "2"
    assert catalog["latest"]["run_id"] == job["id"]
    rows = IRIS.data[[0, 75, 149]].tolist()
    expected = ["setosa", "versicolor", "virginica"]
    for pin in ({}, {"version": "2"}):
        assert [r["class_name"] for r in _predict(stack, "iris-svm", rows, **pin)] == expected
    assert _finished(stack, stack.client.post("/v1/models/iris-svm/jobs", json={"instances": rows}))[
        "model"
    ] == "iris-svm@2"


def test_a_csv_upload_trains_diabetes_linreg(training_stack: Stack) -> None:
    stack = training_stack
    header = ",".join([*DIABETES.feature_names, "progression"])
    lines = [",".join(map(str, [*row, target])) for row, target in zip(DIABETES.data.tolist(), DIABETES.target.tolist())]
    upload = {
        "file": (io.BytesIO("\n".join([header, *lines]).encode()), "diabetes.csv"),
        "target": "progression",
    }
    job = _finished(stack, stack.client.post("/v1/models/diabetes-linreg/train", data=upload))
    (outcome,) = job["result"]
    assert outcome["ref"] == "diabetes-linreg@2" and outcome["metrics"]["test_r2"] > 0.3
    (predicted,) = _predict(stack, "diabetes-linreg", DIABETES.data[:1].tolist(), version="2")
    assert abs(predicted["value"] - DIABETES.target[0]) < 100


def test_a_new_model_from_class_names_and_two_trainings_at_once(training_stack: Stack) -> None:
    stack = training_stack
    targets = [str(IRIS.target_names[t]) for t in IRIS.target]
    body = {"rows": IRIS.data.tolist(), "targets": targets, "estimator": "logistic_regression"}
    first = stack.client.post("/v1/models/iris-new/train", json=body)
    second = stack.client.post("/v1/models/iris-new/train", json=body)
    refs = sorted(_finished(stack, r)["result"][0]["ref"] for r in (first, second))
    assert refs == ["iris-new@1", "iris-new@2"]
    (item,) = _predict(stack, "iris-new", IRIS.data[[120]].tolist(), version="1")
    assert item["class_name"] == "virginica"


def test_refused_training_leaves_the_store_unchanged(
    stack_factory: Callable[..., Stack], store_copy: Path
) -> None:
    stack = stack_factory(model_dir=store_copy)
    before = stack.client.get("/v1/models").get_json()
    bad = {"rows": [[1.0, 2.0]] * 10, "targets": [0, 1] * 5}
    assert stack.client.post("/v1/models/iris-svm/train", json=bad).status_code == 422
    assert stack.client.get("/v1/models").get_json() == before
    assert not list(Path(stack.settings.model_dir, "iris-svm").glob(".staging-*"))
