"""Running image chunks of several jobs as one batch (see :mod:`worker.batching`)."""
from __future__ import annotations

import logging
from typing import Any

from worker.batching import ChunkRef
from worker.errors import InputsExpired
from worker.runner import guarded, is_live, record_chunk
from worker.runtime import Runtime

log = logging.getLogger(__name__)


def run_image_chunk(
    runtime: Runtime, model: str, version: str, own: ChunkRef, worker: str
) -> None:
    """Classify chunk ``own``, batched with other pending chunks of the same model.

    A chunk already recorded (batched by another message) is skipped. Each
    job's inputs are checked on their own, so one job whose uploads expired
    fails alone; an error of the model fails every job in the batch, as it
    would have failed each of them alone.
    """
    ref = f"{model}@{version}"
    runtime.pending.discard(ref, own)
    if runtime.jobs.chunk_done(own.job_id, own.chunk):
        log.info("chunk %s of job %s was batched by another task", own.chunk, own.job_id)
        return
    claimed = runtime.pending.claim(ref, own, runtime.settings.vision_batch)
    batch: list[ChunkRef] = []
    blobs: list[bytes] = []
    for chunk in claimed:
        if not is_live(runtime, chunk.job_id, chunk.chunk, worker):
            continue
        runtime.metrics.started(model, version, chunk.job_id)
        inputs = runtime.jobs.inputs(chunk.job_id, chunk.start, chunk.stop)
        if any(blob is None for blob in inputs):
            error = InputsExpired(f"the uploaded images of job {chunk.job_id} have expired")
            runtime.jobs.fail(chunk.job_id, error.code, str(error))
            continue
        batch.append(chunk)
        blobs += inputs
    if not batch:
        return

    def compute() -> list[dict[str, Any]]:
        predictor = runtime.models.get(runtime.store.get(model, version))
        return predictor.predict_images(blobs)

    with runtime.metrics.running(model, version, images=len(blobs)):
        results = guarded(runtime, sorted({c.job_id for c in batch}), compute)
    if results is None:
        return
    offset = 0
    for chunk in batch:
        own_results = results[offset:offset + chunk.size]
        record_chunk(runtime, chunk.job_id, chunk.chunk, chunk.start, own_results)
        offset += chunk.size
    if len(batch) > 1:
        log.info("batched %d chunks (%d images) of %s", len(batch), len(blobs), ref)
