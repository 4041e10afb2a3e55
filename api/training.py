"""Training: fit a new version of a scikit-learn model on posted rows, as a job."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request, url_for
from marshmallow import Schema, fields, validate

from api.errors import UnprocessableInput, UnsupportedMediaType
from api.inputs import is_multipart
from api.openapi import Blueprint
from api.jobs import JOB_HEADERS
from api.schemas import IdempotencyHeadersSchema, JobSchema
from api.services import Services, services
from models.estimators import Estimator, training_base
from models.training_data import TrainingData, TrainingLimits, check_training_data, read_csv

bp = Blueprint(
    "training", __name__, url_prefix="/v1", api_key=True, description="Fit new model versions on posted data"
)


class TrainOptions(Schema):
    """What both body forms share."""

    estimator = fields.Enum(
        Estimator,
        by_value=True,
        metadata={"description": "estimator kind; required for a new model, else the model's own"},
    )
    version = fields.String(
        validate=validate.Regexp(r"^[0-9]{1,9}$"),
        metadata={"description": "the version whose features and classes to keep (default latest)"},
    )
    holdout = fields.Float(
        load_default=0.2,
        validate=validate.Range(0.0, 0.5),
        metadata={"description": "fraction of rows held out to score the fit"},
    )


class TrainJson(TrainOptions):
    """A JSON training request."""

    # Raw, not nested Lists of Floats: models.training_data checks every value
    # in one pass, which for 100,000 rows marshmallow would take seconds to do.
    rows = fields.Raw(
        metadata={
            "type": "array",
            "items": {"type": "array", "items": {"type": "number"}},
            "description": "feature rows, all the same width",
        },
    )
    targets = fields.Raw(
        metadata={
            "type": "array",
            "items": {"oneOf": [{"type": "number"}, {"type": "string"}]},
            "description": "one per row: numbers (regression), integer labels or class names",
        },
    )
    feature_names = fields.List(
        fields.String(validate=validate.Length(1, 100)),
        metadata={"description": "names of the columns of a new model"},
    )


class TrainForm(TrainOptions):
    """The form fields of a CSV upload."""

    target = fields.String(
        load_default="target",
        validate=validate.Length(1, 100),
        metadata={"description": "the CSV column holding the targets"},
    )


class TrainUpload(TrainForm):
    """A CSV upload, as documented (the file part is read apart from the form)."""

    file = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "CSV with a header row"},
    )


@bp.post("/models/<name>/train")
@bp.doc(
    requestBody={
        "required": True,
        "content": {"application/json": {"schema": TrainJson}, "multipart/form-data": {"schema": TrainUpload}},
    }
)
@bp.response(
    202, JobSchema, headers=JOB_HEADERS, description="The training job; its result names the new version."
)
@bp.errors(400, 404, 409, 413, 415, 422, 429, 503)
@bp.arguments(IdempotencyHeadersSchema, location="headers", arg_name="headers", error_status_code=400)
def train(name: str, headers: dict[str, Any]) -> Response:
    """Train a model version

    Fit a new version of `name` (or a new model, given `estimator`) on JSON
    rows and targets or a CSV upload. Everything is checked here; the fit
    runs as a job on the `training` queue and publishes the version when it
    succeeds.
    """
    svc = services()
    limits = TrainingLimits(max_rows=current_app.config["PREDQ_MAX_TRAINING_ROWS"])
    # Parsed here, not by a decorator: the body is JSON or a form, and the
    # strict JSON parser refuses anything else with a 415.
    if is_multipart(request):
        data = _csv_data(svc, name, limits)
    elif request.is_json:
        data = _json_data(svc, name, bp.ARGUMENTS_PARSER.parse(TrainJson, request, location="json"), limits)
    else:
        raise UnsupportedMediaType("send JSON rows and targets, or multipart/form-data with a CSV 'file'")
    job, replayed = svc.dispatcher.submit_training(
        g.owner, name, data.to_json(), headers.get("idempotency_key")
    )
    response = jsonify(job)
    response.status_code = 202
    response.headers["Location"] = url_for("jobs.get_job", job_id=job["id"])
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _json_data(svc: Services, name: str, body: dict[str, Any], limits: TrainingLimits) -> TrainingData:
    missing = [f for f in ("rows", "targets") if f not in body]
    if missing:
        raise UnprocessableInput(f"missing field(s): {', '.join(missing)}")
    base, kind = training_base(svc.store, name, body.get("version"), body.get("estimator"))
    return check_training_data(
        base, kind, body["rows"], body["targets"], limits, body.get("feature_names"), body["holdout"]
    )


def _csv_data(svc: Services, name: str, limits: TrainingLimits) -> TrainingData:
    form = bp.ARGUMENTS_PARSER.parse(TrainForm, location="form")
    unknown = sorted(set(request.files) - {"file"})
    parts = request.files.getlist("file")
    if unknown or len(parts) != 1:
        raise UnprocessableInput("send exactly one CSV part named 'file'")
    try:
        text = parts[0].read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnprocessableInput("the CSV file is not UTF-8 text") from None
    names, rows, targets = read_csv(text, form["target"])
    base, kind = training_base(svc.store, name, form.get("version"), form.get("estimator"))
    return check_training_data(base, kind, rows, targets, limits, names, form["holdout"])
