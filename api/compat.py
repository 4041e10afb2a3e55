"""The seed's routes, kept for existing clients: they enqueue like /v1."""
from __future__ import annotations

from flask import Blueprint, Response, current_app

from api.auth import authenticate
from api.jobs import submit

bp = Blueprint("compat", __name__)
bp.before_request(authenticate)


@bp.post("/predict")
def predict() -> Response:
    """JSON ``instances`` for the default tabular model; 202 with the job."""
    return submit(current_app.config["PREDQ_DEFAULT_TABULAR_MODEL"])


@bp.post("/classify")
def classify() -> Response:
    """Multipart ``image`` parts for the default image model; 202 with the job."""
    return submit(current_app.config["PREDQ_DEFAULT_IMAGE_MODEL"])
