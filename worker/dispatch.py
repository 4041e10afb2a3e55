"""What the API asks of the queue: accepting jobs, and who consumes which queue."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from celery import Celery
from kombu.exceptions import OperationalError

from models.manifest import Manifest
from worker.config import PREDICT_IMAGES, PREDICT_ROWS
from worker.errors import BrokerUnavailable
from worker.jobs import JobStore, new_job_id
from worker.settings import QUEUES


@contextmanager
def _publishing(jobs: JobStore, job_id: str) -> Iterator[None]:
    # A job whose messages could not be sent must not sit 'queued' forever.
    try:
        yield
    except OperationalError as exc:
        try:
            jobs.fail(job_id, "broker_unavailable", "the job could not be queued")
        except BrokerUnavailable:
            pass  # Redis is down too: the record cannot be updated either.
        raise BrokerUnavailable(f"the Celery broker is unreachable: {exc}") from exc


def submit_rows(
    celery: Celery, jobs: JobStore, manifest: Manifest, rows: list[list[float]]
) -> str:
    """Accept a tabular job; return its id."""
    job_id = new_job_id()
    jobs.create(job_id, manifest.ref, total=len(rows))
    with _publishing(jobs, job_id):
        celery.send_task(
            PREDICT_ROWS, args=[job_id, manifest.name, manifest.version, rows], task_id=job_id
        )
    return job_id


def submit_images(
    celery: Celery, jobs: JobStore, manifest: Manifest, blobs: Sequence[bytes], chunk_size: int
) -> str:
    """Accept an image job: bytes go to Redis, messages carry only ranges."""
    job_id = new_job_id()
    jobs.create(job_id, manifest.ref, total=len(blobs), inputs=blobs)
    with _publishing(jobs, job_id), celery.producer_or_acquire() as producer:
        for chunk, start in enumerate(range(0, len(blobs), chunk_size)):
            stop = min(start + chunk_size, len(blobs))
            celery.send_task(
                PREDICT_IMAGES,
                args=[job_id, manifest.name, manifest.version, chunk, start, stop],
                task_id=f"{job_id}.{chunk}",
                producer=producer,
            )
    return job_id


def queue_consumers(celery: Celery, timeout: float = 1.0) -> dict[str, int]:
    """How many workers consume each predq queue, by asking them (Celery inspect)."""
    consumers = {queue: 0 for queue in QUEUES}
    try:
        replies = celery.control.inspect(timeout=timeout).active_queues() or {}
    except (OperationalError, OSError) as exc:
        raise BrokerUnavailable(f"the Celery broker is unreachable: {exc}") from exc
    for queues in replies.values():
        for queue in queues:
            if queue["name"] in consumers:
                consumers[queue["name"]] += 1
    return consumers
