"""Celery tasks: JSON primitives in, work delegated to the runners."""
from __future__ import annotations

import os

from celery import Task, shared_task

from worker.batch_runner import run_image_chunk
from worker.batching import ChunkRef
from worker.config import DELIVER_WEBHOOK, PREDICT_IMAGES, PREDICT_ROWS, TRAIN_MODEL
from worker.errors import BrokerUnavailable
from worker.runner import run_chunk
from worker.runtime import get_runtime
from worker.training import run_training
from worker.webhooks import deliver


def _worker(task: Task) -> str:
    # Which process runs a chunk: recorded on the job for operators (and for
    # fault-injection tests that kill exactly that process).
    return f"{task.request.hostname}/{os.getpid()}"


_RETRY = {
    "bind": True,
    "autoretry_for": (BrokerUnavailable,),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(name=PREDICT_ROWS, **_RETRY)
def predict_rows(self: Task, job_id: str, model: str, version: str, rows: list[list[float]]) -> None:
    """Predict tabular ``rows`` (already validated by the API) for a job."""
    run_chunk(
        get_runtime(self.app), job_id, model, version, 0, 0, lambda p: p.predict(rows), _worker(self)
    )


@shared_task(name=PREDICT_IMAGES, **_RETRY)
def predict_images(
    self: Task, job_id: str, model: str, version: str, chunk: int, start: int, stop: int
) -> None:
    """Classify the job's uploaded images ``start..stop-1``, batched with other jobs'."""
    run_image_chunk(
        get_runtime(self.app), model, version, ChunkRef(job_id, chunk, start, stop), _worker(self)
    )


@shared_task(name=DELIVER_WEBHOOK, **_RETRY)
def deliver_webhook(self: Task, job_id: str) -> None:
    """Post a finished job to its webhook; a failed attempt comes back after a backoff."""
    runtime = get_runtime(self.app)
    delay = deliver(runtime.jobs, job_id, runtime.settings.webhooks)
    if delay is not None:
        # The job's delivery log bounds the attempts (PREDQ_WEBHOOK_MAX_ATTEMPTS),
        # not Celery's retry counter, which also counts retries for Redis errors.
        raise self.retry(countdown=delay, max_retries=self.request.retries + 1)


@shared_task(name=TRAIN_MODEL, **_RETRY)
def train_model(self: Task, job_id: str, model: str) -> None:
    """Fit a new version of ``model`` on the job's stored training data and publish it."""
    run_training(get_runtime(self.app), job_id, model, _worker(self))
