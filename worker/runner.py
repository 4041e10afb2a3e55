"""Running chunks of jobs: the part of a task that is not Celery glue."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from celery.exceptions import SoftTimeLimitExceeded

from models.errors import ModelError
from worker.batching import ChunkRef
from worker.errors import BrokerUnavailable, WorkerError
from worker.runtime import Runtime

log = logging.getLogger(__name__)

T = TypeVar("T")


def guarded(runtime: Runtime, job_ids: Sequence[str], compute: Callable[[], T]) -> T | None:
    """``compute()``, or None after ending ``job_ids`` failed with a clear error.

    Model and input errors, timeouts and bugs fail the jobs; they never
    escape to kill the worker. Redis trouble is raised so Celery retries.
    """
    try:
        return compute()
    except BrokerUnavailable:
        raise
    except (ModelError, WorkerError) as exc:
        code, message = exc.code, str(exc)
    except SoftTimeLimitExceeded:
        code, message = "timeout", "the job ran past the task time limit"
    except Exception as exc:  # noqa: BLE001 - a bug must fail the job, not hang it
        log.exception("jobs %s crashed", ", ".join(job_ids))
        code, message = "internal_error", f"{type(exc).__name__}: {exc}"
    for job_id in job_ids:
        runtime.jobs.fail(job_id, code, message)
    return None


def record_chunks(runtime: Runtime, done: Sequence[tuple[ChunkRef, list[dict[str, Any]]]]) -> None:
    """Store the results of chunks in one round trip (which also fills the result cache)."""
    runtime.jobs.complete_chunks([(c.job_id, c.chunk, c.start, r) for c, r in done])


def is_live(runtime: Runtime, job_id: str, chunk: int, worker: str) -> bool:
    """Count an attempt at a chunk run on its own and mark its job running.

    False (and a log line) if the job is cancelled, over or gone, the chunk
    is already done, or the chunk was started too often (its job then fails).
    """
    if runtime.jobs.start(job_id, chunk, worker, runtime.settings.max_attempts):
        return True
    log.info("skipping chunk %s of job %s: nothing left to do", chunk, job_id)
    return False
