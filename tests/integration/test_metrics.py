"""Prometheus metrics of the API and of worker processes, as Prometheus would scrape them."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from predq.embedded_redis import free_port
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration

IRIS = {"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, keyed by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def scrape_api(stack: Stack) -> Samples:
    response = stack.client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return parse(response.get_data(as_text=True))


def scrape_url(url: str, timeout: float = 30, **headers: str) -> Samples:
    """GET a metrics endpoint, retrying until it answers (a worker serves it once ready)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
                return parse(r.read().decode())
        except urllib.error.HTTPError:
            raise
        except OSError:
            assert time.monotonic() < deadline, f"nothing answered at {url}"
            time.sleep(0.2)


def submit_images(stack: Stack, blobs: list[bytes]) -> dict:
    files = [(io.BytesIO(blob), f"{i}.png") for i, blob in enumerate(blobs)]
    response = stack.client.post("/v1/models/digits-cnn/jobs", data={"image": files})
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()


def test_queue_depth_counts_jobs_no_worker_takes(isolated_stack: Stack, digit_pngs: list) -> None:
    stack = isolated_stack
    before = scrape_api(stack)
    assert value(before, "predq_redis_up") == 1
    assert value(before, "predq_queue_depth", queue="tabular") == 0
    assert value(before, "predq_workers", queue="tabular") == 0

    ids = [stack.client.post("/v1/models/iris-svm/jobs", json=IRIS).get_json()["id"] for _ in range(3)]
    submit_images(stack, [png for png, _ in digit_pngs[:2]])
    stack.client.delete(f"/v1/jobs/{ids[0]}")

    after = scrape_api(stack)
    # A cancelled job's message stays queued until a worker takes and skips it.
    assert value(after, "predq_queue_depth", queue="tabular") == 3
    assert value(after, "predq_queue_depth", queue="vision") == 1
    assert value(after, "predq_pending_chunks", model="digits-cnn", version="1") == 1
    assert value(after, "predq_unacked_messages") == 0
    assert value(after, "predq_workers", queue="vision") == 0
    submitted = dict(model="iris-svm", version="1", kind="tabular", cached="false")
    assert value(after, "predq_jobs_submitted_total", **submitted) == 3
    assert value(after, "predq_jobs_submitted_total", model="digits-cnn", version="1",
                 kind="image", cached="false") == 1  # fmt: skip
    cancelled = dict(model="iris-svm", version="1", status="cancelled", code="")
    assert value(after, "predq_jobs_finished_total", **cancelled) == 1
    assert total(after, "predq_jobs_finished_total", status="succeeded") == 0


def test_jobs_and_workers_are_counted_by_model_and_status(
    stack_factory: Callable[..., Stack], digit_pngs: list
) -> None:
    stack = stack_factory()
    tabular_port, vision_port = free_port(), free_port()
    stack.start_worker("tabular", metrics_port=tabular_port)
    stack.start_worker("vision", metrics_port=vision_port)
    pngs = [png for png, _ in digit_pngs]

    iris = [stack.client.post("/v1/models/iris-svm/jobs", json=IRIS).get_json() for _ in range(2)]
    tree = stack.client.post("/v1/models/iris-tree/jobs", json=IRIS).get_json()
    good = submit_images(stack, pngs[:5])
    bad = submit_images(stack, [pngs[0][:60]])  # a PNG header, then nothing: fails in the worker
    assert [stack.wait(j["id"])["status"] for j in [*iris, tree, good, bad]] == [
        "succeeded", "succeeded", "succeeded", "succeeded", "failed"
    ]
    cached = stack.client.post("/v1/models/iris-svm/jobs", json=IRIS).get_json()
    assert cached["cached"] is True

    api = scrape_api(stack)
    svm = dict(model="iris-svm", version="1")
    assert value(api, "predq_jobs_submitted_total", **svm, kind="tabular", cached="false") == 2
    assert value(api, "predq_jobs_submitted_total", **svm, kind="tabular", cached="true") == 1
    assert value(api, "predq_jobs_submitted_total", model="digits-cnn", version="1",
                 kind="image", cached="false") == 2  # fmt: skip
    ok = dict(status="succeeded", code="")
    assert value(api, "predq_jobs_finished_total", **svm, **ok) == 3  # the cached one too
    assert value(api, "predq_jobs_finished_total", model="iris-tree", version="1", **ok) == 1
    cnn = dict(model="digits-cnn", version="1")
    assert value(api, "predq_jobs_finished_total", **cnn, **ok) == 1
    assert value(api, "predq_jobs_finished_total", **cnn, status="failed", code="all_items_failed") == 1
    assert value(api, "predq_cache_lookups_total", **svm, result="hit") == 1
    assert value(api, "predq_workers", queue="tabular") == 1
    assert value(api, "predq_workers", queue="vision") == 1
    assert value(api, "predq_queue_depth", queue="tabular") == 0

    tabular = scrape_url(f"http://127.0.0.1:{tabular_port}/metrics")
    assert value(tabular, "predq_queue_wait_seconds_count", **svm) == 2  # the cached one never queued
    svm_runs = value(tabular, "predq_run_seconds_count", **svm)
    assert 1 <= svm_runs <= 2  # the two jobs may have shared a predict
    assert value(tabular, "predq_batch_size_count", **svm) == svm_runs
    assert value(tabular, "predq_batch_size_sum", **svm) == 2 * len(IRIS["instances"])
    assert value(tabular, "predq_run_seconds_count", model="iris-tree", version="1") == 1
    assert value(tabular, "predq_queue_wait_seconds_sum", **svm) >= 0
    assert value(tabular, "predq_queue_wait_seconds_bucket", **svm, le="+Inf") == 2
    assert value(tabular, "predq_worker_processes") == 1  # --concurrency 1

    # A pool child killed outright is replaced; the dead one stops counting.
    os.kill(int(stack.record(tree["id"])["worker"].rpartition("/")[2]), signal.SIGKILL)
    again = stack.client.post("/v1/models/iris-tree/jobs", json={"instances": [[1, 2, 3, 4]]})
    assert stack.wait(again.get_json()["id"])["status"] == "succeeded"
    tabular = scrape_url(f"http://127.0.0.1:{tabular_port}/metrics")
    assert value(tabular, "predq_worker_processes") == 1
    assert value(tabular, "predq_run_seconds_count", model="iris-tree", version="1") == 2

    vision = scrape_url(f"http://127.0.0.1:{vision_port}/metrics")
    assert value(vision, "predq_queue_wait_seconds_count", **cnn) == 2  # one chunk per job
    batches = value(vision, "predq_batch_size_count", **cnn)
    assert 1 <= batches <= 2  # the two jobs may have shared a forward pass
    assert value(vision, "predq_batch_size_sum", **cnn) == 6
    assert value(vision, "predq_run_seconds_count", **cnn) == batches
    assert total(vision, "predq_run_seconds_count", model="iris-svm") == 0


def test_gunicorn_processes_report_one_sum_behind_a_token(
    stack_factory: Callable[..., Stack], repo_root: Path, tmp_path: Path
) -> None:
    stack = stack_factory()
    port = free_port()
    env = {**stack.env(), "PREDQ_AUTH": "none", "PREDQ_METRICS_TOKEN": "scrape-secret",
           "PREDQ_RATE_LIMIT": "3 per minute", "TMPDIR": str(tmp_path)}  # fmt: skip
    api = subprocess.Popen(
        [sys.executable, "-m", "predq", "api", "--bind", f"127.0.0.1:{port}",
         "--workers", "3", "--threads", "2"],
        cwd=repo_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/metrics"
    auth = {"Authorization": "Bearer scrape-secret"}
    try:
        scrape_url(url, timeout=60, **auth)
        assert [p.name[:18] for p in tmp_path.iterdir()] == ["predq-api-metrics-"]
        for _ in range(3):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/models/iris-logreg/jobs",
                data=b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}',
                headers={"Content-Type": "application/json", "Cache-Control": "no-store"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 202
        labels = dict(model="iris-logreg", version="1", kind="tabular", cached="false")
        # Whichever process answers, and however often: /metrics is not rate limited.
        for _ in range(10):
            samples = scrape_url(url, **auth)
            assert value(samples, "predq_jobs_submitted_total", **labels) == 3
            assert value(samples, "predq_queue_depth", queue="tabular") == 3
        with pytest.raises(urllib.error.HTTPError) as refused:
            scrape_url(url)
        assert refused.value.code == 401
    finally:
        api.terminate()
        api.wait(timeout=30)
    assert list(tmp_path.iterdir()) == []  # the metrics directory went with the API
