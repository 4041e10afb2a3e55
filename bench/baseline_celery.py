"""Baseline 2: the minimal Flask + Celery app, one task per request, polled.

Flask's Celery pattern: the request enqueues a task with the whole input in
the message (images as base64 in JSON) and answers 202 with the task's id;
the client polls ``GET /v1/jobs/<id>``, which reads Celery's result backend.
Celery's defaults otherwise (early acks, prefetch 4, result in Redis).
"""
from __future__ import annotations

import base64
import os
from typing import Any

from celery import Celery
from celery.result import AsyncResult
from flask import Flask, jsonify

from bench.baseline_sync import base_app, predict, request_input
from models.serving import LoadedModels, ServingOptions
from models.store import ModelStore

celery = Celery(
    "baseline",
    broker=os.environ.get("BASELINE_REDIS_URL", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("BASELINE_REDIS_URL", "redis://127.0.0.1:6379/0"),
)
_models: dict[str, Any] = {}


@celery.task(name="baseline.predict")
def predict_task(name: str, payload: Any, images: bool) -> list[Any]:
    """Predict in the worker; models load once per pool process."""
    if not _models:
        store = ModelStore(os.environ["PREDQ_MODEL_DIR"])
        _models.update(store=store, loaded=LoadedModels(store, ServingOptions(device="cpu")))
    if images:
        payload = [base64.b64decode(blob) for blob in payload]
    return predict(_models["loaded"], _models["store"], name, payload)


def create_app() -> Flask:
    """The web side: enqueue and answer 202; report the task's state when asked."""
    app = base_app()

    @app.get("/ready")
    def ready() -> Any:
        # Ready once a worker answers: jobs sent before would time the start-up.
        return ("", 200) if celery.control.ping(timeout=1.0) else ("", 503)

    @app.post("/v1/models/<name>/jobs")
    def job(name: str) -> Any:
        payload, images = request_input()
        if images:
            payload = [base64.b64encode(blob).decode() for blob in payload]
        task_id = predict_task.delay(name, payload, images).id
        location = f"/v1/jobs/{task_id}"
        return jsonify(id=task_id, status="queued"), 202, {"Location": location}

    @app.get("/v1/jobs/<task_id>")
    def status(task_id: str) -> Any:
        result = AsyncResult(task_id, app=celery)
        if not result.ready():
            return jsonify(id=task_id, status="queued")
        if not result.successful():
            return jsonify(id=task_id, status="failed", error=str(result.result))
        return jsonify(id=task_id, status="succeeded", result=result.result)

    return app
