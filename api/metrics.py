"""``GET /metrics``: the API's Prometheus metrics, and the cluster's state read from Redis.

Two kinds of numbers:

- the API's own events (jobs submitted), counted in each process; under
  gunicorn they go through prometheus_client's multiprocess directory that
  ``predq api`` sets up, so any process answers with the sum of all;
- the state of the whole deployment, read from Redis at scrape time by
  :class:`ClusterCollector`: queue depths, pending chunks, live workers, jobs
  finished (counted by the Lua scripts where every job ends) and result
  cache lookups. Every API replica reports the same values for these.

Not behind API keys and not rate limited, so Prometheus needs no key; set
``PREDQ_METRICS_TOKEN`` (or keep the route off the public network) when
the API is published.
"""
from __future__ import annotations

import hmac
from collections.abc import Iterator

import redis
from flask import Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.errors import Unauthenticated
from api.openapi import Blueprint
from api.services import Services
from models.manifest import Manifest
from worker.batching import PendingChunks
from worker.errors import BrokerUnavailable
from worker.metrics import multiprocess_registry
from worker.presence import STALE_AFTER_S, WorkerPresence
from worker.settings import QUEUES

bp = Blueprint("metrics", __name__, description="Prometheus metrics (never rate limited).")
# Celery's Redis transport keeps delivered, not yet acknowledged messages here.
_UNACKED = "unacked"
_OUTCOMES = {"hits": "hit", "misses": "miss"}


def _model_labels(model_ref: str) -> list[str]:
    name, _, version = model_ref.rpartition("@")
    return [name, version]


class ClusterCollector(Collector):
    """Reads the deployment's state from Redis on every scrape (a few pipelined reads)."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        url = svc.settings.broker_url
        # Queue depths are read from a Redis broker's lists; another broker gets none.
        self.broker = (
            redis.Redis.from_url(url, socket_connect_timeout=2)
            if url.startswith(("redis://", "rediss://", "unix://"))
            else None
        )
        self.pending = PendingChunks(svc.jobs.redis, svc.settings.job_ttl)
        self.presence = WorkerPresence(svc.jobs.redis)

    def collect(self) -> Iterator[Metric]:
        """The metric families; only ``predq_redis_up 0`` when Redis cannot be read."""
        up = GaugeMetricFamily("predq_redis_up", "1 when the API could read Redis for this scrape.")
        try:
            families = list(self._families())
        except (BrokerUnavailable, redis.RedisError):
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator[Metric]:
        if self.broker is not None:
            yield from self._queues(self.broker)
        yield from self._state()

    @staticmethod
    def _queues(broker: redis.Redis) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "predq_queue_depth",
            "Messages waiting in a Celery queue (not yet delivered).",
            labels=["queue"],
        )
        with broker.pipeline() as pipe:
            for queue in QUEUES:
                pipe.llen(queue)
            pipe.hlen(_UNACKED)
            *lengths, unacked = pipe.execute()
        for queue, length in zip(QUEUES, lengths):
            depth.add_metric([queue], length)
        yield depth
        yield GaugeMetricFamily(
            "predq_unacked_messages",
            "Messages delivered to workers and not yet acknowledged (running or reserved).",
            value=unacked,
        )

    def _state(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "predq_pending_chunks",
            "Image chunks listed for cross-job batching and not yet claimed.",
            labels=["model", "version"],
        )
        image_models = [m.ref for m in self.svc.store.list() if m.is_image_model]
        for ref, count in self.pending.depth(image_models).items():
            pending.add_metric(_model_labels(ref), count)
        yield pending

        workers = GaugeMetricFamily(
            "predq_workers",
            f"Celery workers consuming a queue (a heartbeat in the last {STALE_AFTER_S:g} s).",
            labels=["queue"],
        )
        for queue, count in self.presence.count(QUEUES).items():
            workers.add_metric([queue], count)
        yield workers

        finished = CounterMetricFamily(
            "predq_jobs_finished",
            "Jobs that ended, by final status and, for failed ones, error code "
            "(answers from the result cache included).",
            labels=["model", "version", "status", "code"],
        )
        for (ref, status, code), count in sorted(self.svc.jobs.finished_counts().items()):
            finished.add_metric([*_model_labels(ref), status, code], count)
        yield finished

        lookups = CounterMetricFamily(
            "predq_cache_lookups",
            "Result cache lookups by outcome.",
            labels=["model", "version", "result"],
        )
        for ref, counts in self.svc.cache.stats().items():
            for outcome, count in counts.items():
                lookups.add_metric([*_model_labels(ref), _OUTCOMES[outcome]], count)
        yield lookups


class ApiMetrics:
    """The API's own counters and what a scrape reads; one per app."""

    def __init__(self, svc: Services, multiprocess: bool) -> None:
        self.multiprocess = multiprocess
        self.cluster = ClusterCollector(svc)
        self.own = CollectorRegistry()
        self.own.register(self.cluster)
        self.submitted = Counter(
            "predq_jobs_submitted",
            "Jobs accepted (idempotent replays not counted); "
            "cached: answered from the result cache.",
            ["model", "version", "kind", "cached"],
            registry=self.own,
        )

    def count_submission(self, manifest: Manifest, cached: bool) -> None:
        """Count one accepted job."""
        kind = "image" if manifest.is_image_model else "tabular"
        self.submitted.labels(manifest.name, manifest.version, kind, str(cached).lower()).inc()

    def scrape(self) -> bytes:
        """The text exposition of every metric, summed over processes when multiprocess."""
        if not self.multiprocess:
            return generate_latest(self.own)
        # The counters as every gunicorn process wrote them, not this one's.
        registry = multiprocess_registry()
        registry.register(self.cluster)
        return generate_latest(registry)


def init_metrics(app: Flask, svc: Services) -> None:
    """Set up the metrics of ``app`` (call before the first request)."""
    multiprocess = bool(app.config.get("PROMETHEUS_MULTIPROC_DIR"))
    app.extensions["predq_metrics"] = ApiMetrics(svc, multiprocess)


def count_submission(manifest: Manifest, cached: bool) -> None:
    """Count one accepted job in the current app's metrics."""
    metrics: ApiMetrics = current_app.extensions["predq_metrics"]
    metrics.count_submission(manifest, cached)


@bp.get("/metrics")
@bp.doc(
    responses={
        200: {
            "description": "Prometheus text exposition format (see docs/metrics.md).",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        }
    }
)
def metrics_view() -> Response:
    """Prometheus metrics

    The API's and the deployment's metrics in Prometheus text format. Needs
    `Authorization: Bearer <token>` when the server sets PREDQ_METRICS_TOKEN
    (else 401); not an API key, so the route is not under the apiKey scheme.
    """
    token: str = current_app.config.get("PREDQ_METRICS_TOKEN", "")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        matches = hmac.compare_digest(given.strip().encode(), token.encode())
        if scheme.lower() != "bearer" or not matches:
            raise Unauthenticated("send the metrics token as 'Authorization: Bearer <token>'")
    metrics: ApiMetrics = current_app.extensions["predq_metrics"]
    return Response(metrics.scrape(), content_type=CONTENT_TYPE_LATEST)
