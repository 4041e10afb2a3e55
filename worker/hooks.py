"""Celery signal hooks of a ``predq worker`` process: metrics server and presence."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import redis
from celery import Celery, signals
from prometheus_client import CollectorRegistry, start_http_server

from worker.errors import BrokerUnavailable
from worker.metrics import PoolCollector
from worker.presence import BEAT_EVERY_S, WorkerPresence
from worker.runtime import get_runtime

log = logging.getLogger(__name__)


def install_hooks(app: Celery, queues: Sequence[str], metrics_dir: str | None) -> None:
    """Connect this worker's Celery signals: a heartbeat per queue in Redis
    (the API counts live workers from it) and, when ``PREDQ_METRICS_PORT`` is
    set, the metrics server summing what its processes wrote to
    ``metrics_dir`` (the multiprocess directory). Call before ``worker_main``."""
    settings = app.predq_settings  # type: ignore[attr-defined]
    presence = WorkerPresence(redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2))

    def beat(hostname: str) -> None:
        try:
            presence.beat(hostname, queues)
        except BrokerUnavailable:
            log.warning("could not record this worker's heartbeat: Redis is unreachable")

    def ready(sender: Any, **_: Any) -> None:
        # sender is the consumer: its timer runs on the worker's event loop,
        # so a wedged loop stops the heartbeat too.
        beat(sender.hostname)
        sender.timer.call_repeatedly(BEAT_EVERY_S, beat, (sender.hostname,))
        if settings.metrics_port and metrics_dir:
            registry = CollectorRegistry()
            registry.register(PoolCollector(metrics_dir))
            # A port in use raises here; Celery logs it and the worker runs on.
            start_http_server(settings.metrics_port, registry=registry)
            log.info("serving metrics on port %d", settings.metrics_port)

    def shutdown(sender: Any, **_: Any) -> None:
        try:
            presence.leave(sender.hostname, queues)
        except BrokerUnavailable:
            pass  # it drops out after STALE_AFTER_S without beats anyway

    def child_started(**_: Any) -> None:
        get_runtime(app).metrics.processes.set(1)

    signals.worker_ready.connect(ready, weak=False)
    signals.worker_shutdown.connect(shutdown, weak=False)
    if settings.metrics_port:
        signals.worker_process_init.connect(child_started, weak=False)
