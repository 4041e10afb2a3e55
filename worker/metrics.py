"""A worker's Prometheus metrics (served by the hooks in :mod:`worker.hooks`).

A prefork worker runs tasks in pool children, so the metrics use
prometheus_client's multiprocess mode: ``predq worker`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh private directory before anything
imports prometheus_client (see :mod:`predq.multiprocess`), every process of
the worker writes its values there, and the main process serves the sum on
``PREDQ_METRICS_PORT``. Cluster-wide numbers (queue depth, jobs finished,
live workers) are read from Redis by the API's ``/metrics``, not here.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, Histogram, Metric, multiprocess
from prometheus_client.registry import Collector

from worker.job_ids import JobIds

_LABELS = ("model", "version")
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
_ITEMS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


# attribute: (name, help, buckets); each histogram is labelled by model and version.
_HISTOGRAMS = {
    "queue_wait": (
        "predq_queue_wait_seconds",
        "From a job's submission to a worker starting one of its chunks.",
        _SECONDS,
    ),
    "run": (
        "predq_run_seconds",
        "A worker's time predicting one batch of chunks (rows or images of one or "
        "more jobs): image decoding and the model's run.",
        _SECONDS,
    ),
    "batch": (
        "predq_batch_size",
        "Rows or images predicted in one model call (chunks of several jobs batched).",
        _ITEMS,
    ),
}


class WorkerMetrics:
    """The metrics one worker process records; one instance per process."""

    queue_wait: Histogram
    run: Histogram
    batch: Histogram

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # A private registry by default: the values are exported through the
        # multiprocess directory, and a second instance must not clash.
        registry = registry or CollectorRegistry()
        for attr, (name, doc, buckets) in _HISTOGRAMS.items():
            setattr(self, attr, Histogram(name, doc, _LABELS, buckets=buckets, registry=registry))
        # livesum: the 1 of a pool child that is gone drops out (PoolCollector).
        self.processes = Gauge(
            "predq_worker_processes",
            "Live processes of this worker that run tasks (pool children).",
            registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip

    def started(self, model: str, version: str, job_id: str) -> None:
        """A chunk of ``job_id`` starts now: record how long it waited."""
        created = JobIds.created_at(job_id)
        if created is not None:
            # Clocks of the API's and the worker's machines may differ a little.
            self.queue_wait.labels(model, version).observe(max(0.0, time.time() - created))

    @contextmanager
    def running(self, model: str, version: str, batch: int | None = None) -> Iterator[None]:
        """Time the work in the block; ``batch``: the items (rows or images) it predicts."""
        if batch is not None:
            self.batch.labels(model, version).observe(batch)
        with self.run.labels(model, version).time():
            yield


def multiprocess_registry() -> CollectorRegistry:
    """A registry that sums the values every process wrote to the multiprocess directory."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


class PoolCollector(Collector):
    """The multiprocess sum, after forgetting the live gauges of exited processes.

    ``mark_process_dead`` runs at scrape time for every process that left a
    live-gauge file and is gone: that covers a pool child killed by SIGKILL
    or the OOM killer too, which runs no exit hook of its own.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.sum = multiprocess.MultiProcessCollector(None, path)

    def collect(self) -> Iterable[Metric]:
        """The metrics of every process of this worker."""
        for file in Path(self.path).glob("gauge_live*_*.db"):
            pid = int(file.stem.rpartition("_")[2])
            if not _alive(pid):
                multiprocess.mark_process_dead(pid, self.path)
        return self.sum.collect()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user
    return True
