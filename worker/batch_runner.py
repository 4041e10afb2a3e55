"""Running chunks of several jobs as one batch (see :mod:`worker.batching`).

Tabular rows and images go through the same steps; a :class:`BatchKind`
says what differs: which limits apply, how a stored input is read back and
which predictor method runs the batch.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from models.errors import ModelError
from models.results import error_result
from worker.batching import ChunkRef
from worker.errors import BrokerUnavailable, InputsExpired
from worker.runner import guarded, record_chunks
from worker.runtime import Runtime
from worker.settings import TABULAR_QUEUE, VISION_QUEUE

log = logging.getLogger(__name__)

Results = list[dict[str, Any]]


@dataclasses.dataclass(frozen=True)
class BatchKind:
    """What batching rows differs in from batching images."""

    queue: str
    unit: str
    read: Callable[[bytes], Any]
    predict: Callable[[Any, list[Any]], Results]


TABULAR = BatchKind(TABULAR_QUEUE, "rows", json.loads, lambda p, rows: p.predict(rows))
VISION = BatchKind(VISION_QUEUE, "images", bytes, lambda p, blobs: p.predict_images(blobs))


def run_batched(
    runtime: Runtime, kind: BatchKind, model: str, version: str, own: ChunkRef, worker: str
) -> None:
    """Predict chunk ``own``, batched with other pending chunks of the same model version.

    A chunk already recorded (batched by another message) is skipped. Each
    job's inputs are checked on their own, so one job whose inputs expired
    fails alone. A model that cannot be loaded fails every job in the batch,
    as it would have failed each of them alone; a batch predict that raises
    is retried item by item, so a bad item fails only its own entry.
    """
    ref = f"{model}@{version}"
    runtime.pending.discard(ref, own)
    if runtime.jobs.chunk_done(own.job_id, own.chunk):
        log.info("chunk %s of job %s was batched by another task", own.chunk, own.job_id)
        return
    claimed = runtime.pending.claim(ref, own, runtime.settings.batch_limits(kind.queue))
    started = runtime.jobs.start_chunks(claimed, worker, runtime.settings.max_attempts)
    batch: list[ChunkRef] = []
    items: list[Any] = []
    for chunk, inputs in zip(claimed, started):
        if inputs is None:
            log.info("skipping chunk %s of job %s: nothing left to do", chunk.chunk, chunk.job_id)
        elif any(value is None for value in inputs):
            error = InputsExpired(f"the inputs of job {chunk.job_id} have expired")
            runtime.jobs.fail(chunk.job_id, error.code, str(error))
        else:
            runtime.metrics.started(model, version, chunk.job_id)
            batch.append(chunk)
            items += [kind.read(value) for value in inputs]
    if not batch:
        return
    job_ids = sorted({c.job_id for c in batch})
    predictor = guarded(
        runtime, job_ids, lambda: runtime.models.get(runtime.store.get(model, version))
    )
    if predictor is None:
        return
    with runtime.metrics.running(model, version, batch=len(items)):
        results = guarded(runtime, job_ids, lambda: _predict_isolating(kind, predictor, items))
    if results is None:
        return
    offsets = [0]
    for chunk in batch:
        offsets.append(offsets[-1] + chunk.size)
    record_chunks(
        runtime, [(c, results[offsets[i]:offsets[i + 1]]) for i, c in enumerate(batch)]
    )
    if len(batch) > 1:
        log.info("batched %d chunks (%d %s) of %s", len(batch), len(items), kind.unit, ref)


def _predict_isolating(kind: BatchKind, predictor: Any, items: list[Any]) -> Results:
    """One vectorised predict; if it raises, each item alone, a failing one as its error entry."""
    try:
        return kind.predict(predictor, items)
    except (BrokerUnavailable, SoftTimeLimitExceeded):
        raise
    except Exception:  # noqa: BLE001 - which item is bad is found below
        if len(items) == 1:
            raise
        log.warning("a batch of %d %s failed; predicting them one by one", len(items), kind.unit)
    return [_predict_one(kind, predictor, item) for item in items]


def _predict_one(kind: BatchKind, predictor: Any, item: Any) -> dict[str, Any]:
    try:
        return kind.predict(predictor, [item])[0]
    except (BrokerUnavailable, SoftTimeLimitExceeded):
        raise
    except ModelError as exc:
        return error_result(exc.code, str(exc))
    except Exception as exc:  # noqa: BLE001 - a bad item must not fail its neighbours
        log.exception("an item failed on its own")
        return error_result("internal_error", f"{type(exc).__name__}: {exc}")
