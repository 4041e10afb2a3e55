"""Each model family through HTTP, queue and worker processes, and back."""
from __future__ import annotations

import dataclasses
import io
import time

import numpy as np
import pytest
from sklearn import datasets

from models import ModelStore
from models.serving import LoadedModels, ServingOptions
from models.tabular import load
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


def poll(stack: Stack, location: str, timeout: float = 30) -> dict:
    """Plain polling, as the simplest client does it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = stack.client.get(location).get_json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job at {location} did not finish: {job}")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("iris-tree", datasets.load_iris().data),
        ("iris-logreg", datasets.load_iris().data),
        ("iris-svm", datasets.load_iris().data),
        ("diabetes-linreg", datasets.load_diabetes().data),
    ],
)
def test_tabular_prediction_equals_the_models_own(
    stack: Stack, model_store: ModelStore, name: str, data: np.ndarray
) -> None:
    rows = data[::15]
    response = stack.client.post(f"/v1/models/{name}/jobs", json={"instances": rows.tolist()})
    assert response.status_code == 202
    job = response.get_json()
    assert response.headers["Location"] == f"/v1/jobs/{job['id']}"
    # A fast worker may already have picked it up by the time the 202 is written.
    assert job["status"] in {"queued", "running", "succeeded"} and job["model"] == f"{name}@1"

    done = poll(stack, response.headers["Location"])
    assert done["status"] == "succeeded", done
    assert done["progress"] == {"done": len(rows), "total": len(rows)}
    assert done["created_at"] <= done["started_at"] <= done["finished_at"]
    model = load(model_store.artifact_path(model_store.get(name)))
    if "value" in done["result"][0]:
        assert [r["value"] for r in done["result"]] == pytest.approx(model.predict(rows))
    else:
        assert [r["label"] for r in done["result"]] == model.predict(rows).tolist()
        for result, proba in zip(done["result"], model.predict_proba(rows)):
            assert list(result["probabilities"].values()) == pytest.approx(proba)


def test_long_poll_returns_the_finished_job(stack: Stack) -> None:
    job = stack.client.post("/predict", json={"instances": [[6.7, 3.0, 5.2, 2.3]]}).get_json()
    done = stack.wait(job["id"], timeout=20)
    assert done["status"] == "succeeded"
    assert done["model"] == "iris-tree@1" and done["result"][0]["class_name"] == "virginica"


def test_digit_images_are_classified_like_the_model_does_in_process(
    stack: Stack, model_store: ModelStore, digit_pngs: list[tuple[bytes, int]]
) -> None:
    files = [(io.BytesIO(png), f"{i}.png") for i, (png, _) in enumerate(digit_pngs)]
    response = stack.client.post("/v1/models/digits-cnn/jobs", data={"image": files})
    assert response.status_code == 202
    done = stack.wait(response.get_json()["id"])
    assert done["status"] == "succeeded"
    expected = LoadedModels(model_store, ServingOptions(device="cpu")).get(
        model_store.get("digits-cnn")
    ).predict_images([png for png, _ in digit_pngs])
    assert [r["label"] for r in done["result"]] == [r["label"] for r in expected]
    accuracy = np.mean([r["label"] == label for r, (_, label) in zip(done["result"], digit_pngs)])
    assert accuracy >= 0.9


def test_batch_in_chunks_isolates_a_corrupt_image(
    stack: Stack, digit_pngs: list[tuple[bytes, int]]
) -> None:
    small_chunks = Stack(
        dataclasses.replace(stack.settings, image_chunk_size=4), stack.logs, stack.repo_root
    )
    blobs = [png for png, _ in digit_pngs]
    blobs.insert(7, blobs[0][:60])  # valid PNG header, truncated body
    files = [(io.BytesIO(b), f"{i}.png") for i, b in enumerate(blobs)]
    job = small_chunks.client.post("/classify", data={"image": files}).get_json()
    assert job["progress"]["total"] == 21
    done = small_chunks.wait(job["id"])
    assert done["status"] == "succeeded"
    assert done["progress"] == {"done": 21, "total": 21}
    assert done["result"][7]["error"]["code"] == "invalid_image"
    good = [r for i, r in enumerate(done["result"]) if i != 7]
    assert all("label" in r for r in good)
    accuracy = np.mean([r["label"] == label for r, (_, label) in zip(good, digit_pngs)])
    assert accuracy >= 0.9


def test_ready_when_every_queue_has_a_worker(stack: Stack) -> None:
    response = stack.client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["workers"] == {"tabular": 1, "vision": 1}


def test_a_pinned_version_is_served(stack: Stack) -> None:
    response = stack.client.post(
        "/v1/models/iris-logreg/jobs", json={"instances": [[5.1, 3.5, 1.4, 0.2]], "version": "1"}
    )
    assert stack.wait(response.get_json()["id"])["model"] == "iris-logreg@1"
