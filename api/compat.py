"""The seed's routes, kept for existing clients: they enqueue like /v1."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app

from api.jobs import JSON, MULTIPART, submit, submit_endpoint
from api.openapi import Blueprint

bp = Blueprint("compat", __name__, api_key=True, description="The seed's routes, for existing clients.")


@bp.post("/predict")
@submit_endpoint(bp, JSON)
def predict(query: dict[str, Any], headers: dict[str, Any]) -> Response:
    """Submit rows to the default tabular model

    Like `POST /v1/models/{name}/jobs` for PREDQ_DEFAULT_TABULAR_MODEL (iris-tree by default).
    """
    return submit(current_app.config["PREDQ_DEFAULT_TABULAR_MODEL"], query, headers)


@bp.post("/classify")
@submit_endpoint(bp, MULTIPART)
def classify(query: dict[str, Any], headers: dict[str, Any]) -> Response:
    """Submit images to the default image model

    Like `POST /v1/models/{name}/jobs` for PREDQ_DEFAULT_IMAGE_MODEL (digits-cnn by default).
    """
    return submit(current_app.config["PREDQ_DEFAULT_IMAGE_MODEL"], query, headers)
