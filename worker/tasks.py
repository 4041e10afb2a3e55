"""Celery tasks: JSON primitives in, work delegated to the runners."""
from __future__ import annotations

import os

from celery import Task, shared_task

from worker.batch_runner import TABULAR, VISION, BatchKind, run_batched
from worker.batching import ChunkRef
from worker.config import PREDICT_IMAGES, PREDICT_ROWS
from worker.errors import BrokerUnavailable
from worker.runtime import get_runtime


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
