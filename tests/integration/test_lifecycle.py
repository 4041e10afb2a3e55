"""Cancelling, failing in the worker, restarting workers, and the real server."""
from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from models import ModelStore
from predq.embedded_redis import free_port
from tests.integration.conftest import Stack
from worker.settings import BatchLimits

pytestmark = pytest.mark.integration
SETOSA = [5.1, 3.5, 1.4, 0.2]


def submit_iris(stack: Stack, n: int) -> list[str]:
    return [
        stack.client.post("/predict", json={"instances": [SETOSA]}).get_json()["id"]
        for _ in range(n)
    ]


def statuses(stack: Stack, ids: list[str]) -> list[str]:
    return [stack.client.get(f"/v1/jobs/{job_id}").get_json()["status"] for job_id in ids]


def test_cancelled_queued_job_never_runs(isolated_stack: Stack) -> None:
    keep, cancel = submit_iris(isolated_stack, 2)
    response = isolated_stack.client.delete(f"/v1/jobs/{cancel}")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    isolated_stack.start_worker("tabular")
    assert isolated_stack.wait(keep)["status"] == "succeeded"
    cancelled = isolated_stack.wait(cancel)
    assert cancelled["status"] == "cancelled" and cancelled["started_at"] is None
    again = isolated_stack.client.delete(f"/v1/jobs/{keep}")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "job_finished"


def test_model_failing_in_the_worker_fails_its_job_only(
    stack_factory: Callable[..., Stack], model_store: ModelStore, tmp_path: Path,
    digit_pngs: list[tuple[bytes, int]],
) -> None:  # fmt: skip
    store = ModelStore(tmp_path / "store")
    shutil.copytree(model_store.root, store.root)
    manifest = store.get("digits-cnn")
    (store.root / "digits-cnn" / "1" / manifest.artifact).write_bytes(b"not the weights")
    stack = stack_factory(model_dir=store.root)
    worker = stack.start_worker("tabular,vision")
    upload = {"image": (io.BytesIO(digit_pngs[0][0]), "a.png")}
    broken = stack.client.post("/classify", data=upload).get_json()
    fine = submit_iris(stack, 3)
    failed = stack.wait(broken["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "integrity_error"
    assert "does not match" in failed["error"]["message"]
    assert [stack.wait(job_id)["status"] for job_id in fine] == ["succeeded"] * 3
    assert worker.poll() is None  # the worker is still up


def test_worker_restart_mid_queue_loses_no_job(isolated_stack: Stack) -> None:
    ids = submit_iris(isolated_stack, 1000)
    first = isolated_stack.start_worker("tabular")
    assert isolated_stack.wait(ids[0])["status"] == "succeeded"
    isolated_stack.stop_worker(first, signal.SIGTERM)  # warm shutdown mid-queue
    after_stop = statuses(isolated_stack, ids)
    assert "queued" in after_stop, "the queue drained before the restart; nothing was tested"
    assert "running" not in after_stop  # warm shutdown finished what it had started

    isolated_stack.start_worker("tabular")
    finished = [isolated_stack.wait(job_id) for job_id in ids]
    assert [job["status"] for job in finished] == ["succeeded"] * len(ids)
    assert all(job["result"][0]["class_name"] == "setosa" for job in finished)
    assert all(job["progress"] == {"done": 1, "total": 1} for job in finished)


def test_gunicorn_serves_submit_and_long_poll(stack: Stack, repo_root: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "predq", "api", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=repo_root, env=stack.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.1)
        request = urllib.request.Request(
            f"{base}/v1/models/iris-svm/jobs",
            data=json.dumps({"instances": [SETOSA]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
            location = response.headers["Location"]
        with urllib.request.urlopen(f"{base}{location}?wait=20", timeout=30) as response:
            job = json.load(response)
        assert job["status"] == "succeeded" and job["result"][0]["class_name"] == "setosa"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_cancelling_a_running_batch_stops_its_remaining_chunks(
    stack_factory: Callable[..., Stack], digit_pngs: list[tuple[bytes, int]]
) -> None:
    # One image per chunk and no batching across chunks, so the job is slow
    # enough to be cancelled while it runs: a worker can take a second to
    # answer the ping of start_worker, and does 300 such chunks in less.
    stack = stack_factory(image_chunk_size=1, vision_batch=BatchLimits(max_batch_size=1))
    files = [(io.BytesIO(digit_pngs[i % 20][0]), f"{i}.png") for i in range(1500)]
    job_id = stack.client.post("/classify", data={"image": files}).get_json()["id"]
    stack.start_worker("vision")
    deadline = time.monotonic() + 60
    while stack.client.get(f"/v1/jobs/{job_id}").get_json()["status"] == "queued":
        assert time.monotonic() < deadline, "the job never started"
    cancelled = stack.client.delete(f"/v1/jobs/{job_id}").get_json()
    assert cancelled["status"] == "cancelled"
    # A job queued behind the cancelled chunks: once it is done, they were all consumed.
    upload = {"image": (io.BytesIO(digit_pngs[0][0]), "marker.png")}
    marker = stack.client.post("/classify", data=upload).get_json()["id"]
    assert stack.wait(marker)["status"] == "succeeded"
    final = stack.client.get(f"/v1/jobs/{job_id}").get_json()
    assert final["status"] == "cancelled"
    assert final["progress"] == cancelled["progress"]  # no chunk counted after the cancel
    assert final["progress"]["done"] < 1500
