"""Liveness and readiness probes."""
from __future__ import annotations

from flask import Response, jsonify

from api.openapi import Blueprint
from api.schemas import HealthSchema, ReadinessSchema
from api.services import services
from worker.dispatch import queue_consumers
from worker.errors import BrokerUnavailable
from worker.settings import QUEUES

bp = Blueprint("health", __name__, description="Liveness and readiness probes (never rate limited).")


@bp.get("/healthz")
@bp.response(200, HealthSchema)
def healthz() -> Response:
    """Liveness

    The process is alive and serving requests.
    """
    return jsonify(status="ok")


@bp.get("/readyz")
@bp.response(200, ReadinessSchema, description="Ready.")
@bp.alt_response(503, schema=ReadinessSchema, description="Not ready: Redis unreachable or a queue without workers.")
def readyz() -> Response:
    """Readiness

    Ready when Redis answers and every queue has at least one consuming worker.
    """
    svc = services()
    try:
        svc.jobs.ping()
        consumers, broker = queue_consumers(svc.celery), "ok"
    except BrokerUnavailable as exc:
        consumers, broker = dict.fromkeys(QUEUES, 0), f"unreachable: {exc}"
    ready = broker == "ok" and all(consumers.values())
    response = jsonify(ready=ready, broker=broker, workers=consumers)
    response.status_code = 200 if ready else 503
    return response
