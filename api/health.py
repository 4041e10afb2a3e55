"""Liveness and readiness probes."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.services import services
from worker.errors import BrokerUnavailable
from worker.settings import QUEUES

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive and serving requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when Redis answers and every queue has at least one consuming worker."""
    svc = services()
    consumers = {queue: 0 for queue in QUEUES}
    try:
        svc.jobs.ping()
        reply = svc.celery.control.inspect(timeout=1.0).active_queues() or {}
        broker = "ok"
    except (BrokerUnavailable, OSError) as exc:
        reply, broker = {}, f"unreachable: {exc}"
    for queues in reply.values():
        for queue in queues:
            if queue["name"] in consumers:
                consumers[queue["name"]] += 1
    ready = broker == "ok" and all(consumers.values())
    response = jsonify(ready=ready, broker=broker, workers=consumers)
    response.status_code = 200 if ready else 503
    return response
