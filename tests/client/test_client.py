"""The client against a real server and worker: predictions, images, idempotency."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import numpy as np
from PIL import Image

from client import (
    BatchProgress, ClassResult, Client, Conflict, InvalidRequest, JobStatus, ValueResult, WaitTimeout,
)  # fmt: skip

pytestmark = pytest.mark.integration
SETOSA, VIRGINICA = [5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]


def test_predict_gives_each_row_its_class(predq: Client) -> None:
    job = predq.predict("iris-svm", [SETOSA, VIRGINICA, SETOSA], timeout=60)
    assert job.status is JobStatus.SUCCEEDED and job.error is None
    assert all(isinstance(item, ClassResult) for item in job.result)
    names = [item.class_name for item in job.result]  # type: ignore[union-attr]
    assert names == ["setosa", "virginica", "setosa"]
    assert all(item.confidence > 0.5 for item in job.result)  # type: ignore[union-attr, operator]
    assert job.progress.done == job.progress.total == 3 and job.attempts == 1
    assert job.model == "iris-svm@1"
    assert job.created_at <= job.started_at <= job.finished_at  # type: ignore[operator]


def test_a_regressor_answers_values(predq: Client) -> None:
    job = predq.predict("diabetes-linreg", [[0.0] * 10], timeout=60)
    assert job.status is JobStatus.SUCCEEDED
    assert isinstance(job.result[0], ValueResult) and isinstance(job.result[0].value, float)


def test_submit_then_get_and_wait_follow_one_job(predq: Client) -> None:
    queued = predq.submit("iris-tree", instances=[SETOSA])
    assert queued.status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED)
    assert predq.get(queued.id).id == queued.id
    seen: list[JobStatus] = []
    done = predq.wait(queued.id, timeout=60, on_update=lambda job: seen.append(job.status))
    assert done.status is JobStatus.SUCCEEDED and seen[-1] is JobStatus.SUCCEEDED
    assert done.result == [ClassResult(0, "setosa", done.result[0].probabilities)]  # type: ignore[union-attr]


def test_a_submit_retried_with_its_idempotency_key_returns_the_same_job(predq: Client) -> None:
    first = predq.submit("iris-svm", instances=[SETOSA], idempotency_key="order-42")
    again = predq.submit("iris-svm", instances=[SETOSA], idempotency_key="order-42")
    assert again.id == first.id
    with pytest.raises(InvalidRequest) as reused:
        predq.submit("iris-svm", instances=[VIRGINICA], idempotency_key="order-42")
    assert reused.value.code == "idempotency_key_reused"
    assert predq.submit("iris-svm", instances=[SETOSA]).id != first.id  # a fresh key per submit


def test_classify_images_answers_in_the_order_of_the_paths(predq: Client, digit_paths: list[Path]) -> None:
    paths = digit_paths[::-1]  # 9.png ... 0.png, in jobs of three images
    seen: list[BatchProgress] = []
    results = predq.classify_images(paths, chunk_size=3, timeout=120, progress=seen.append)
    assert [r.path for r in results] == paths
    assert [r.label for r in results] == [int(p.stem) for p in paths]
    assert all(r.error is None and r.class_name == p.stem for r, p in zip(results, paths))
    assert all(0 < r.confidence <= 1 for r in results)  # type: ignore[operator]
    assert [p.uploaded for p in seen if p.classified == 0][:4] == [3, 6, 9, 10]
    assert seen[-1] == BatchProgress(uploaded=10, classified=10, total=10)


def test_a_corrupt_image_gets_its_own_error(predq: Client, digit_paths: list[Path], tmp_path: Path) -> None:
    for path in digit_paths:
        shutil.copy(path, tmp_path)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(digit_paths[0].read_bytes()[:60])  # a PNG header, then nothing
    paths = [tmp_path / p.name for p in digit_paths]
    paths.insert(5, corrupt)
    results = predq.classify_images(paths, chunk_size=4, timeout=120)
    assert results[5].path == corrupt and results[5].label is None
    assert results[5].error is not None and results[5].error.code == "invalid_image"
    assert [r.label for r in results[:5] + results[6:]] == list(range(10))


def test_a_file_the_server_refuses_gets_its_error_and_the_rest_are_classified(
    predq: Client, digit_paths: list[Path], tmp_path: Path
) -> None:
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not a PNG at all")  # refused on upload, not in the worker
    paths = list(digit_paths)
    paths.insert(3, not_an_image)
    results = predq.classify_images(paths, chunk_size=8, timeout=120)
    assert [r.path for r in results] == paths
    assert results[3].error is not None and results[3].error.code == "invalid_image"
    assert [r.label for r in results[:3] + results[4:]] == list(range(10))


def test_wait_gives_up_at_its_timeout_and_cancel_stops_the_job(predq: Client) -> None:
    ramp = np.linspace(0, 255, 1024, dtype=np.float32)
    plane = (ramp[None, :] * 0.5 + ramp[:, None] * 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.stack([plane, plane.T, 255 - plane], axis=-1)).save(buffer, format="PNG")
    job = predq.submit("digits-cnn", images=[buffer.getvalue()] * 150)  # seconds of decoding
    with pytest.raises(WaitTimeout) as timed_out:
        predq.wait(job.id, timeout=0.2)
    assert timed_out.value.job.id == job.id and not timed_out.value.job.status.terminal
    assert predq.cancel(job.id).status is JobStatus.CANCELLED
    with pytest.raises(Conflict) as finished:
        predq.cancel(job.id)
    assert finished.value.code == "job_finished"


def test_the_client_imports_none_of_the_server(repo_root: Path) -> None:
    server_side = {"flask", "celery", "redis", "kombu", "torch", "sklearn", "numpy", "api", "worker", "models"}
    check = f"import sys, client; print(sorted({{m.split('.')[0] for m in sys.modules}} & {server_side}))"
    loaded = subprocess.run(
        [sys.executable, "-c", check], cwd=repo_root, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
