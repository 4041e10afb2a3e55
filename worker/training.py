"""Running a training job: fit on its stored data, publish, record the new version."""
from __future__ import annotations

from typing import Any

from models.manifest import Manifest
from worker.errors import InputsExpired
from worker.runner import guarded, is_live
from worker.runtime import Runtime


def training_result(manifest: Manifest) -> dict[str, Any]:
    """The job's one result item: which version was published and how it scored."""
    return {
        "model": manifest.name,
        "version": manifest.version,
        "ref": manifest.ref,
        "estimator": manifest.estimator,
        "metrics": manifest.metrics,
    }


def run_training(runtime: Runtime, job_id: str, model: str, worker: str) -> None:
    """Fit and publish a new version of ``model`` for job ``job_id``.

    A training job is one chunk: started (and its attempts counted) like any
    other, failed with a clear error on bad data, and recorded once. A run
    redelivered after its worker died finds the version it already published.
    """
    if not is_live(runtime, job_id, 0, worker):
        return

    def compute() -> Manifest:
        # scikit-learn is imported here: only processes that train pay for it.
        from models.fitting import publish_fitted
        from models.training_data import TrainingData

        blob = runtime.jobs.inputs(job_id, 0, 1)[0]
        if blob is None:
            raise InputsExpired(f"the training data of job {job_id} has expired")
        return publish_fitted(runtime.store, model, TrainingData.from_json(blob), run_id=job_id)

    manifest = guarded(runtime, [job_id], compute)
    if manifest is not None:
        runtime.jobs.complete_chunk(job_id, 0, 0, [training_result(manifest)])
