"""Running one chunk of a job: the part of a task that is not Celery glue."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from models.errors import ModelError
from worker.errors import BrokerUnavailable, WorkerError
from worker.jobs import JobStatus
from worker.runtime import Runtime

log = logging.getLogger(__name__)

Compute = Callable[[Any], list[dict[str, Any]]]


def run_chunk(
    runtime: Runtime,
    job_id: str,
    model: str,
    version: str,
    chunk: int,
    start: int,
    compute: Compute,
) -> None:
    """Run ``compute(predictor)`` for one chunk and record its results.

    Cancelled, finished or expired jobs are skipped. Model and input errors
    end the job ``failed`` with a clear message; they never escape to kill
    the worker, and a redelivered chunk is counted once by the job store.
    """
    status = runtime.jobs.start(job_id)
    if status is None or status.is_terminal:
        log.info("skipping chunk %s of job %s: %s", chunk, job_id, status or "expired")
        return
    try:
        predictor = runtime.models.get(runtime.store.get(model, version))
        results = compute(predictor)
    except BrokerUnavailable:
        raise  # Redis trouble: let Celery retry the task.
    except (ModelError, WorkerError) as exc:
        runtime.jobs.fail(job_id, exc.code, str(exc))
        return
    except SoftTimeLimitExceeded:
        runtime.jobs.fail(job_id, "timeout", "the job ran past the task time limit")
        return
    except Exception as exc:  # noqa: BLE001 - a bug must fail the job, not hang it
        log.exception("job %s chunk %s crashed", job_id, chunk)
        runtime.jobs.fail(job_id, "internal_error", f"{type(exc).__name__}: {exc}")
        return
    record_chunk(runtime, job_id, chunk, start, results)


def record_chunk(
    runtime: Runtime, job_id: str, chunk: int, start: int, results: list[dict[str, Any]]
) -> None:
    """Store a chunk's results; the chunk that ends a job well fills the result cache."""
    if runtime.jobs.complete_chunk(job_id, chunk, start, results) is JobStatus.SUCCEEDED:
        runtime.cache.fill(job_id, runtime.jobs.get(job_id)["result"])
