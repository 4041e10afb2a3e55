"""Bounded storage: everything a job leaves in Redis expires with it."""
from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration
JOBS = 2000
NO_STORE = {"Cache-Control": "no-store"}


def test_redis_returns_to_its_baseline_after_2000_jobs_expire(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory(job_ttl=10)
    stack.start_worker("tabular")
    admin = redis.Redis.from_url(stack.settings.redis_url)
    warm_up = stack.client.post("/predict", json={"instances": [[5.1, 3.5, 1.4, 0.2]]}, headers=NO_STORE)
    stack.wait(warm_up.get_json()["id"])
    time.sleep(11)
    baseline_keys = sorted(admin.scan_iter())
    baseline_memory = admin.info("memory")["used_memory"]

    # no-store: every job runs on the worker, none is answered from the result cache.
    ids = [
        stack.client.post(
            "/predict", json={"instances": [[5.1, 3.5, 1.4, 0.2]] * 20}, headers=NO_STORE
        ).get_json()["id"]
        for _ in range(JOBS)
    ]
    assert stack.wait(ids[-1])["status"] == "succeeded"
    assert admin.dbsize() > len(baseline_keys) + JOBS  # records and results are there
    loaded_memory = admin.info("memory")["used_memory"]

    time.sleep(11)  # every job's TTL has run out
    assert sorted(admin.scan_iter()) == baseline_keys  # SCAN also expires lazily
    after = admin.info("memory")["used_memory"]
    assert after - baseline_memory < (loaded_memory - baseline_memory) * 0.05
    assert stack.client.get(f"/v1/jobs/{ids[0]}").status_code == 404
