"""Baseline 1: a synchronous Flask app that predicts inside the request.

The classic first version of a model server: the web process holds the
models and answers when the prediction is done. Served by gunicorn.
"""
from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify, request

from models.serving import LoadedModels, ServingOptions
from models.store import ModelStore


def predict(models: LoadedModels, store: ModelStore, name: str, payload: Any) -> list[Any]:
    """Predict JSON rows or a list of image bytes with the latest version of ``name``."""
    manifest = store.get(name)
    predictor = models.get(manifest)
    if manifest.is_image_model:
        return predictor.predict_images(payload)
    return predictor.predict(payload)


def request_input() -> tuple[Any, bool]:
    """The request's rows, or its image parts' bytes; and whether they are images."""
    if request.files:
        return [part.read() for part in request.files.getlist("image")], True
    return request.get_json()["instances"], False


def base_app() -> Flask:
    """A Flask app with the health route every baseline answers; it takes
    batch requests as big as predq does (10,000 image parts)."""
    app = Flask(__name__)
    app.config["MAX_FORM_PARTS"] = 10_010
    app.add_url_rule("/health", "health", lambda: jsonify(status="ok"))
    return app


def create_app() -> Flask:
    """The app; models load on first use in each gunicorn worker."""
    app = base_app()
    store = ModelStore(os.environ["PREDQ_MODEL_DIR"])
    models = LoadedModels(store, ServingOptions(device="cpu"))

    @app.post("/v1/models/<name>/jobs")
    def job(name: str) -> Any:
        payload, _ = request_input()
        return jsonify(status="succeeded", result=predict(models, store, name, payload))

    return app
