"""Celery tasks: JSON primitives in, work delegated to the runners."""
from __future__ import annotations

import os

from celery import Task, shared_task

from worker.batch_runner import TABULAR, VISION, BatchKind, run_batched
from worker.batching import ChunkRef
from worker.config import DELIVER_WEBHOOK, PREDICT_IMAGES, PREDICT_ROWS, TRAIN_MODEL
from worker.errors import BrokerUnavailable
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


def _predict(task: Task, kind: BatchKind, model: str, version: str, chunk: ChunkRef) -> None:
    run_batched(get_runtime(task.app), kind, model, version, chunk, _worker(task))


@shared_task(name=PREDICT_ROWS, **_RETRY)
def predict_rows(
    self: Task, job_id: str, model: str, version: str, chunk: int, start: int, stop: int
) -> None:
    """Predict the job's stored rows ``start..stop-1``, batched with other jobs' rows."""
    _predict(self, TABULAR, model, version, ChunkRef(job_id, chunk, start, stop))


@shared_task(name=PREDICT_IMAGES, **_RETRY)
def predict_images(
    self: Task, job_id: str, model: str, version: str, chunk: int, start: int, stop: int
) -> None:
    """Classify the job's uploaded images ``start..stop-1``, batched with other jobs' images."""
    _predict(self, VISION, model, version, ChunkRef(job_id, chunk, start, stop))


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
