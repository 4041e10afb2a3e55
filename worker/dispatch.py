"""What the API asks of the queue: accepting jobs, and who consumes which queue."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from celery import Celery
from kombu.exceptions import OperationalError

from models.manifest import Manifest
from worker.batching import ChunkRef, PendingChunks
from worker.cache import ResultCache, images_digest, rows_digest
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


@dataclasses.dataclass(frozen=True)
class CacheUse:
    """How one request uses the result cache: ``lookup`` False still refreshes it."""

    cache: ResultCache
    lookup: bool = True


def _answered_from_cache(
    jobs: JobStore, use: CacheUse | None, manifest: Manifest, digest: str, job_id: str
) -> bool:
    """Create ``job_id`` finished if the cache holds its results; else note where they go."""
    if use is None or not use.cache.enabled:
        return False
    key = use.cache.key(manifest.ref, digest)
    results = use.cache.lookup(manifest.ref, key) if use.lookup else None
    if results is not None:
        jobs.create_cached(job_id, manifest.ref, results)
        return True
    use.cache.remember(job_id, key)
    return False


def submit_rows(
    celery: Celery,
    jobs: JobStore,
    manifest: Manifest,
    rows: list[list[float]],
    cache: CacheUse | None = None,
) -> str:
    """Accept a tabular job (answered from ``cache`` when it can be); return its id."""
    job_id = new_job_id()
    if _answered_from_cache(jobs, cache, manifest, rows_digest(rows), job_id):
        return job_id
    jobs.create(job_id, manifest.ref, total=len(rows))
    with _publishing(jobs, job_id):
        celery.send_task(
            PREDICT_ROWS, args=[job_id, manifest.name, manifest.version, rows], task_id=job_id
        )
    return job_id


def submit_images(
    celery: Celery,
    jobs: JobStore,
    manifest: Manifest,
    blobs: Sequence[bytes],
    chunk_size: int,
    cache: CacheUse | None = None,
    pending: PendingChunks | None = None,
) -> str:
    """Accept an image job: bytes go to Redis, messages carry only ranges.

    With ``pending``, its chunks are also listed for workers to batch with
    other jobs' chunks; each chunk's message is still sent.
    """
    job_id = new_job_id()
    if _answered_from_cache(jobs, cache, manifest, images_digest(blobs), job_id):
        return job_id
    jobs.create(job_id, manifest.ref, total=len(blobs), inputs=blobs)
    chunks = [
        ChunkRef(job_id, i, start, min(start + chunk_size, len(blobs)))
        for i, start in enumerate(range(0, len(blobs), chunk_size))
    ]
    if pending is not None:
        pending.add(manifest.ref, chunks)
    with _publishing(jobs, job_id), celery.producer_or_acquire() as producer:
        for c in chunks:
            celery.send_task(
                PREDICT_IMAGES,
                args=[job_id, manifest.name, manifest.version, c.chunk, c.start, c.stop],
                task_id=f"{job_id}.{c.chunk}",
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
