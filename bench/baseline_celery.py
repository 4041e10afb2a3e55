"""Baseline 2: the minimal Flask + Celery app, one task per request.

The request enqueues a task with the whole input in the message (images as
base64 in JSON), then blocks on Celery's result backend until it is done:
Celery's defaults otherwise (early acks, prefetch 4, result in Redis).
"""
from __future__ import annotations

import base64
import os
from typing import Any

from celery import Celery
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
    """The web side: enqueue, then wait on the result backend."""
    app = base_app()

    @app.post("/v1/models/<name>/jobs")
    def job(name: str) -> Any:
        payload, images = request_input()
        if images:
            payload = [base64.b64encode(blob).decode() for blob in payload]
        result = predict_task.delay(name, payload, images).get(timeout=30)
        return jsonify(status="succeeded", result=result)

    return app
