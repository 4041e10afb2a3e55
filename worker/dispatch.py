"""What the API asks of the queue: accepting jobs, and who consumes which queue."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import redis
from celery import Celery
from kombu.exceptions import OperationalError

from models.manifest import Manifest
from worker.admission import Admission
from worker.batching import ChunkRef, PendingChunks
from worker.cache import ResultCache, images_digest, rows_digest
from worker.config import PREDICT_IMAGES, PREDICT_ROWS, TRAIN_MODEL
from worker.errors import BrokerUnavailable, IdempotencyKeyInFlight, JobNotFound, WorkerError
from worker.jobs import JobStore
from worker.settings import QUEUES, TABULAR_QUEUE, VISION_QUEUE, BatchLimits
from worker.webhook_targets import WebhookTarget


@dataclasses.dataclass(frozen=True)
class Submission:
    """One validated request: tabular ``rows`` or image ``blobs`` for a model.

    ``cache_lookup`` False (``Cache-Control: no-cache``) still refreshes the
    result cache; ``cache_store`` False (``no-store``) keeps it out entirely.
    ``webhook`` is told when the job ends, even when the cache answered it.
    """

    owner: str
    manifest: Manifest
    rows: list[list[float]] | None = None
    blobs: Sequence[bytes] = ()
    idempotency_key: str | None = None
    cache_lookup: bool = True
    cache_store: bool = True
    webhook: WebhookTarget | None = None

    @functools.cached_property
    def digest(self) -> str:
        """sha256 of the canonical input: the same input always gives the same value.

        Computed once: the idempotency fingerprint and the cache key both use
        it, and for a large image batch it hashes every upload.
        """
        return rows_digest(self.rows) if self.rows is not None else images_digest(self.blobs)

    def fingerprint(self) -> str:
        """What was asked, model version included: the identity of a request."""
        return f"{self.manifest.ref}:{self.digest}"


class Dispatcher:
    """Accepts jobs: admission, the result cache, the record, then the Celery messages."""

    def __init__(
        self,
        celery: Celery,
        jobs: JobStore,
        admission: Admission,
        cache: ResultCache,
        pending: PendingChunks,
        image_chunk_size: int,
        batch_limits: Callable[[str], BatchLimits],
    ) -> None:
        self.celery = celery
        self.jobs = jobs
        self.admission = admission
        self.cache = cache
        self.pending = pending
        self.image_chunk_size = image_chunk_size
        self.batch_limits = batch_limits

    def submit(self, submission: Submission) -> tuple[dict[str, Any], bool]:
        """Accept a job; return its document and whether it is an idempotent replay."""

        def accept(job_id: str) -> dict[str, Any]:
            job = self._answer_from_cache(job_id, submission)
            if job is None:
                self.admission.admit(submission.owner, job_id)
                job = self._enqueue(job_id, submission)
            return job

        return self._accept(
            submission.owner, submission.idempotency_key, submission.fingerprint, accept
        )

    def submit_training(
        self, owner: str, model: str, data: bytes, idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Accept a training job for ``model``; ``data`` is its checked training data.

        The data is stored with the job, like uploaded images, so the message
        stays small and the data is freed when the job ends. Returns the job
        and whether ``idempotency_key`` replayed an earlier one.
        """

        def accept(job_id: str) -> dict[str, Any]:
            self.admission.admit(owner, job_id)
            job = self.jobs.create(job_id, owner, model, 1, [data])
            with self._publishing(job_id):
                self.celery.send_task(TRAIN_MODEL, args=[job_id, model], task_id=job_id)
            return job

        def fingerprint() -> str:
            return f"train:{model}:{hashlib.sha256(data).hexdigest()}"

        return self._accept(owner, idempotency_key, fingerprint, accept)

    def _accept(
        self,
        owner: str,
        key: str | None,
        fingerprint: Callable[[], str],
        accept: Callable[[str], dict[str, Any]],
    ) -> tuple[dict[str, Any], bool]:
        """``accept(job_id)`` once per ``key``: a retry with the same key gets the first job."""
        job_id = self.jobs.ids.new(owner)
        if key:
            held = self.admission.claim(owner, key, fingerprint(), job_id)
            if held is not None:
                return self._replay(held, owner), True
        try:
            return accept(job_id), False
        except WorkerError:
            if key:
                self.admission.release(owner, key)
            raise

    def _replay(self, job_id: str, owner: str) -> dict[str, Any]:
        try:
            return self.jobs.get(job_id, owner)
        except JobNotFound:
            raise IdempotencyKeyInFlight(
                "a request with this Idempotency-Key is still being accepted; retry shortly"
            ) from None

    def _answer_from_cache(self, job_id: str, submission: Submission) -> dict[str, Any] | None:
        """Create ``job_id`` finished if the cache holds its results; else note where they go."""
        if not submission.cache_store or not self.cache.enabled:
            return None
        ref = submission.manifest.ref
        key = self.cache.key(submission.owner, ref, submission.digest)
        results = self.cache.lookup(ref, key) if submission.cache_lookup else None
        if results is not None:
            return self.jobs.create_cached(
                job_id, submission.owner, ref, results, submission.webhook
            )
        self.cache.remember(job_id, key)
        return None

    def _enqueue(self, job_id: str, submission: Submission) -> dict[str, Any]:
        manifest = submission.manifest
        if submission.rows is not None:
            # Rows are stored like uploads so a worker batching other jobs can read them.
            inputs: Sequence[bytes | str] = [json.dumps(row) for row in submission.rows]
            task, queue, chunk_size = PREDICT_ROWS, TABULAR_QUEUE, len(inputs)
        else:
            inputs = submission.blobs
            task, queue, chunk_size = PREDICT_IMAGES, VISION_QUEUE, self.image_chunk_size
        total = len(inputs)
        chunks = [
            ChunkRef(job_id, i, start, min(start + chunk_size, total))
            for i, start in enumerate(range(0, total, chunk_size))
        ]
        job = self.jobs.create(
            job_id, submission.owner, manifest.ref, total, inputs, submission.webhook
        )
        with self._publishing(job_id), self.celery.producer_or_acquire() as producer:
            self.pending.add(manifest.ref, chunks, self.batch_limits(queue))
            for c in chunks:
                self.celery.send_task(
                    task,
                    args=[job_id, manifest.name, manifest.version, c.chunk, c.start, c.stop],
                    task_id=f"{job_id}.{c.chunk}",
                    producer=producer,
                )
        return job

    @contextmanager
    def _publishing(self, job_id: str) -> Iterator[None]:
        # A job whose messages could not be sent must not sit 'queued' forever.
        try:
            yield
        except (OperationalError, redis.RedisError) as exc:
            try:
                self.jobs.fail(job_id, "broker_unavailable", "the job could not be queued")
            except BrokerUnavailable:
                pass  # Redis is down too: the record cannot be updated either.
            raise BrokerUnavailable("the Celery broker is unreachable") from exc


def queue_consumers(celery: Celery, timeout: float = 1.0) -> dict[str, int]:
    """How many workers consume each predq queue, by asking them (Celery inspect)."""
    consumers = {queue: 0 for queue in QUEUES}
    try:
        replies = celery.control.inspect(timeout=timeout).active_queues() or {}
    except (OperationalError, OSError) as exc:
        raise BrokerUnavailable("the Celery broker is unreachable") from exc
    for queues in replies.values():
        for queue in queues:
            if queue["name"] in consumers:
                consumers[queue["name"]] += 1
    return consumers
