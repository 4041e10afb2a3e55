"""Fault injection against real processes: crashes, shutdowns, time limits, poison.

Each test starts its own workers on its own Redis database, submits a job
that takes seconds (a chunk of large images), breaks something while the
job runs, and checks what a user relies on: the job reaches the right
terminal state and its work was counted exactly once.
"""
from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Callable

import pytest

from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration
MakeStack = Callable[..., Stack]


def submit_slow_job(stack: Stack, slow_images: list[bytes]) -> str:
    files = [(io.BytesIO(blob), f"{i}.png") for i, blob in enumerate(slow_images)]
    response = stack.client.post("/classify", data={"image": files})
    assert response.status_code == 202
    return response.get_json()["id"]


def running(record: dict[str, str]) -> bool:
    return record.get("status") == "running"


def pool_child(record: dict[str, str]) -> int:
    """The pid of the pool process running the job (recorded as ``host/pid``)."""
    return int(record["worker"].rsplit("/", 1)[1])


def assert_finished_once(stack: Stack, job_id: str, attempts: int) -> None:
    job = stack.wait(job_id, timeout=30)
    assert job["status"] == "succeeded", job
    assert job["progress"] == {"done": 300, "total": 300}  # counted once
    assert all("label" in item for item in job["result"])
    assert job["attempts"] == attempts


def test_worker_sigkilled_mid_job_finishes_once_after_a_new_worker_starts(
    stack_factory: MakeStack, slow_images: list[bytes]
) -> None:
    stack = stack_factory(image_chunk_size=300, visibility_timeout=8, task_time_limit=7)
    first = stack.start_worker("vision")
    job_id = submit_slow_job(stack, slow_images)
    stack.wait_until(job_id, running)
    stack.kill_worker(first)  # main process and pool child, no goodbye
    assert stack.record(job_id)["status"] == "running"

    stack.start_worker("vision")  # redelivers once the visibility timeout has passed
    assert_finished_once(stack, job_id, attempts=2)


def test_killed_pool_child_is_retried_and_the_job_finishes(
    stack_factory: MakeStack, slow_images: list[bytes]
) -> None:
    stack = stack_factory(image_chunk_size=300)
    worker = stack.start_worker("vision")
    job_id = submit_slow_job(stack, slow_images)
    os.kill(pool_child(stack.wait_until(job_id, running)), signal.SIGKILL)
    assert_finished_once(stack, job_id, attempts=2)
    assert worker.poll() is None


def test_poison_job_that_kills_its_worker_every_time_fails_after_max_attempts(
    stack_factory: MakeStack, slow_images: list[bytes]
) -> None:
    stack = stack_factory(image_chunk_size=300, max_attempts=2)
    worker = stack.start_worker("vision")
    job_id = submit_slow_job(stack, slow_images)
    for attempt in (1, 2):
        record = stack.wait_until(job_id, lambda r, n=attempt: running(r) and r["attempts"] == str(n))
        os.kill(pool_child(record), signal.SIGKILL)
    job = stack.wait(job_id, timeout=30)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "too_many_attempts"
    assert job["attempts"] == 3 and job["progress"]["done"] == 0
    assert worker.poll() is None
    other = submit_slow_job(stack, slow_images[:5])
    assert stack.wait(other)["status"] == "succeeded"  # the worker still serves


def test_warm_shutdown_finishes_the_running_job(
    stack_factory: MakeStack, slow_images: list[bytes]
) -> None:
    stack = stack_factory(image_chunk_size=300)
    worker = stack.start_worker("vision")
    job_id = submit_slow_job(stack, slow_images)
    stack.wait_until(job_id, running)
    stack.stop_worker(worker, signal.SIGTERM)
    assert stack.record(job_id)["status"] == "succeeded"
    assert_finished_once(stack, job_id, attempts=1)


def test_soft_shutdown_puts_the_unfinished_job_back(
    stack_factory: MakeStack, slow_images: list[bytes]
) -> None:
    stack = stack_factory(image_chunk_size=300, soft_shutdown_timeout=0.5)
    worker = stack.start_worker("vision")
    job_id = submit_slow_job(stack, slow_images)
    stack.wait_until(job_id, running)
    stack.stop_worker(worker, signal.SIGQUIT)  # cold shutdown, after a 0.5 s soft one
    assert stack.record(job_id)["status"] == "running"  # interrupted, not lost

    stack.start_worker("vision")
    assert_finished_once(stack, job_id, attempts=2)


def test_job_past_its_time_limit_fails_and_is_never_run_again(
    stack_factory: MakeStack, slow_images: list[bytes]
) -> None:
    stack = stack_factory(image_chunk_size=300, visibility_timeout=4, task_time_limit=2)
    stack.start_worker("vision")
    job_id = submit_slow_job(stack, slow_images)
    job = stack.wait(job_id, timeout=30)
    assert job["status"] == "failed" and job["error"]["code"] == "timeout"
    time.sleep(6)  # past the visibility timeout and a restore sweep
    follow_up = submit_slow_job(stack, slow_images[:2])
    assert stack.wait(follow_up)["status"] == "succeeded"  # the queue has drained
    # The timed-out job was acknowledged, never redelivered.
    assert stack.client.get(f"/v1/jobs/{job_id}").get_json()["attempts"] == 1
