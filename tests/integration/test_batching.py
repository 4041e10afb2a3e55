"""Dynamic batching: chunks of many jobs in one forward pass, nothing lost or mixed up."""
from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import redis

from models import ModelStore
from models.serving import LoadedModels, ServingOptions
from tests.integration.conftest import Stack
from worker.settings import BatchLimits

pytestmark = pytest.mark.integration


def submit_each(stack: Stack, pngs: list[bytes]) -> list[str]:
    """One job per image, as many independent clients would send them."""
    ids = []
    for i, png in enumerate(pngs):
        response = stack.client.post(
            "/v1/models/digits-cnn/jobs",
            data={"image": (io.BytesIO(png), f"{i}.png")},
            headers={"Cache-Control": "no-store"},
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    return ids


def worker_log(stack: Stack) -> str:
    return "".join(path.read_text() for path in stack.logs.glob("vision-*.log"))


def in_process(model_store: ModelStore, pngs: list[bytes]) -> list[dict]:
    predictor = LoadedModels(model_store, ServingOptions(device="cpu")).get(
        model_store.get("digits-cnn")
    )
    return [predictor.predict_images([png])[0] for png in pngs]


def test_waiting_single_image_jobs_run_as_one_batch(
    stack_factory: Callable[..., Stack], model_store: ModelStore,
    digit_pngs: list[tuple[bytes, int]],
) -> None:  # fmt: skip
    stack = stack_factory(vision_batch=BatchLimits(max_batch_size=8, max_delay_ms=5))
    pngs = [png for png, _ in digit_pngs[:12]]
    corrupt = pngs[0][:60]  # valid header: only the worker finds it corrupt
    ids = submit_each(stack, [*pngs, corrupt])
    stack.start_worker("vision")
    jobs = [stack.wait(job_id) for job_id in ids]

    expected = in_process(model_store, pngs)
    for job, want in zip(jobs, expected):
        assert job["status"] == "succeeded" and job["progress"] == {"done": 1, "total": 1}
        assert job["result"][0]["label"] == want["label"]
        # A batch of another shape may round differently in the last float bits.
        assert job["result"][0]["probabilities"] == pytest.approx(want["probabilities"], abs=1e-6)
    # The corrupt image fails its own job only, though it shared a batch.
    assert jobs[-1]["status"] == "failed"
    assert jobs[-1]["result"][0]["error"]["code"] == "invalid_image"
    # 13 one-image jobs at most 8 images a batch: batches, not 13 passes.
    assert "batched 8 chunks (8 images)" in worker_log(stack)


def test_a_lost_claim_loses_no_job(
    stack_factory: Callable[..., Stack], digit_pngs: list[tuple[bytes, int]]
) -> None:
    stack = stack_factory()
    ids = submit_each(stack, [png for png, _ in digit_pngs[:5]])
    # As if a worker claimed every pending chunk, then died before recording them.
    client = redis.Redis.from_url(stack.settings.redis_url)
    for key in client.scan_iter("predq:pending:*"):
        client.delete(key)
    stack.start_worker("vision")
    assert [stack.wait(job_id)["status"] for job_id in ids] == ["succeeded"] * 5


def test_batching_off_still_classifies(
    stack_factory: Callable[..., Stack], digit_pngs: list[tuple[bytes, int]]
) -> None:
    stack = stack_factory(vision_batch=BatchLimits(max_batch_size=1))
    ids = submit_each(stack, [png for png, _ in digit_pngs[:3]])
    stack.start_worker("vision")
    jobs = [stack.wait(job_id) for job_id in ids]
    assert [j["result"][0]["label"] for j in jobs] == [label for _, label in digit_pngs[:3]]
    assert "batched" not in worker_log(stack)
