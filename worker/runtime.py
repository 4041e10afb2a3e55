"""What a worker process holds between tasks: its job store and loaded models."""
from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Iterable

from celery import Celery

from models.serving import LoadedModels
from models.store import ModelStore
from worker.batching import PendingChunks
from worker.jobs import JobStore
from worker.metrics import WorkerMetrics
from worker.settings import TABULAR_QUEUE, TRAINING_QUEUE, VISION_QUEUE, Settings
from worker.webhooks import scheduler

_LIBRARIES = {
    TABULAR_QUEUE: "models.tabular",
    VISION_QUEUE: "models.cnn",
    TRAINING_QUEUE: "models.fitting",
}


@dataclasses.dataclass
class Runtime:
    """One per worker process, created on its first task (after any fork)."""

    settings: Settings
    store: ModelStore
    jobs: JobStore
    pending: PendingChunks
    models: LoadedModels
    metrics: WorkerMetrics
    pid: int


def get_runtime(app: Celery) -> Runtime:
    """The calling process's runtime, created on first use.

    Keyed by pid so a prefork child never reuses its parent's connections or
    models: CUDA and model weights are only ever initialised in the child
    that runs the task.
    """
    runtime: Runtime | None = getattr(app, "predq_runtime", None)
    if runtime is None or runtime.pid != os.getpid():
        settings: Settings = app.predq_settings  # type: ignore[attr-defined]
        store = ModelStore(settings.model_dir)
        jobs = JobStore.from_url(
            settings.redis_url, settings.job_ttl, settings.secret_key, scheduler(app)
        )
        runtime = Runtime(
            settings=settings,
            store=store,
            jobs=jobs,
            pending=PendingChunks(jobs.redis, settings.job_ttl),
            models=LoadedModels(store, settings.serving),
            metrics=WorkerMetrics(),
            pid=os.getpid(),
        )
        app.predq_runtime = runtime  # type: ignore[attr-defined]
    return runtime


def preload_libraries(queues: Iterable[str]) -> None:
    """Import the model libraries the queues need, before the pool forks.

    Children then share the imported code copy-on-write instead of each
    paying seconds of imports on its first task. Importing torch does not
    initialise CUDA; that still happens only in the child that loads a model.
    """
    for queue in queues:
        if queue in _LIBRARIES:
            importlib.import_module(_LIBRARIES[queue])
