"""Dynamic batching of tabular jobs: rows of many jobs in one predict, each job its own rows."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sklearn import datasets

from models import ModelStore
from models.serving import LoadedModels, ServingOptions
from tests.integration.conftest import Stack
from worker.settings import BatchLimits

pytestmark = pytest.mark.integration

MODEL = "iris-tree"
# Finite, so the API accepts it, but past float32: the tree refuses the row.
BAD_ROW = [1e308, 3.0, 1.0, 0.2]


def submit(stack: Stack, rows: list[list[float]]) -> str:
    """One tabular job, as an independent client would send it (its own test client)."""
    response = stack.client.application.test_client().post(
        f"/v1/models/{MODEL}/jobs", json={"instances": rows}, headers={"Cache-Control": "no-store"}
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def iris_jobs(n: int) -> list[list[list[float]]]:
    """``n`` jobs of 1 to 3 distinct iris rows each."""
    data = datasets.load_iris().data.tolist()
    return [data[i * 3 % 150:i * 3 % 150 + 1 + i % 3] for i in range(n)]


def expected(model_store: ModelStore, rows: list[list[float]]) -> list[dict]:
    predictor = LoadedModels(model_store, ServingOptions()).get(model_store.get(MODEL))
    return [predictor.predict([row])[0] for row in rows]


def tabular_log(stack: Stack) -> str:
    return "".join(path.read_text() for path in stack.logs.glob("tabular-*.log"))


def test_concurrent_jobs_are_batched_and_each_gets_its_own_rows(
    stack_factory: Callable[..., Stack], model_store: ModelStore
) -> None:
    stack = stack_factory(tabular_batch=BatchLimits(max_batch_size=16, max_delay_ms=5))
    jobs = iris_jobs(60)
    # A backlog before any worker runs, so batches must form ...
    ids = [submit(stack, rows) for rows in jobs[:30]]
    stack.start_worker("tabular")
    stack.start_worker("tabular")
    # ... then clients submitting at once while two workers claim batches.
    with ThreadPoolExecutor(8) as pool:
        ids += list(pool.map(lambda rows: submit(stack, rows), jobs[30:]))

    for job_id, rows in zip(ids, jobs):
        job = stack.wait(job_id)
        assert job["status"] == "succeeded", job
        assert job["progress"] == {"done": len(rows), "total": len(rows)}
        assert job["result"] == expected(model_store, rows)
    assert "batched " in tabular_log(stack) and " rows) of iris-tree@" in tabular_log(stack)


def test_a_bad_row_fails_only_its_own_entry(
    stack_factory: Callable[..., Stack], model_store: ModelStore
) -> None:
    stack = stack_factory(tabular_batch=BatchLimits(max_batch_size=64, max_delay_ms=5))
    good = iris_jobs(6)
    mixed = [good[0][0], BAD_ROW, good[1][0]]
    ids = [submit(stack, rows) for rows in good[:3]]
    mixed_id, bad_id = submit(stack, mixed), submit(stack, [BAD_ROW])
    ids += [submit(stack, rows) for rows in good[3:]]
    stack.start_worker("tabular")

    for job_id, rows in zip(ids, good):
        job = stack.wait(job_id)
        assert job["status"] == "succeeded" and job["result"] == expected(model_store, rows)
    job = stack.wait(mixed_id)
    assert job["status"] == "succeeded"
    assert job["result"][0] == expected(model_store, [mixed[0]])[0]
    assert job["result"][1]["error"]["code"] == "invalid_input"
    assert job["result"][2] == expected(model_store, [mixed[2]])[0]
    assert stack.wait(bad_id)["status"] == "failed"
    # Eight jobs, sixteen rows, one batch: the bad row did not fail its neighbours.
    assert "batched 8 chunks (16 rows)" in tabular_log(stack)


def test_a_lone_job_does_not_wait_for_a_full_batch(
    stack_factory: Callable[..., Stack], model_store: ModelStore
) -> None:
    stack = stack_factory(tabular_batch=BatchLimits(max_batch_size=256, max_delay_ms=50))
    stack.start_worker("tabular")
    response = stack.client.post(
        f"/v1/models/{MODEL}/jobs",
        json={"instances": [[5.1, 3.5, 1.4, 0.2]]},
        headers={"Prefer": "wait=20", "Cache-Control": "no-store"},
    )
    assert response.status_code == 200
    assert response.get_json()["result"] == expected(model_store, [[5.1, 3.5, 1.4, 0.2]])
    assert "batched" not in tabular_log(stack)
