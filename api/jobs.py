"""Jobs: submit to a model, read (or long-poll) a job, cancel it."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, jsonify, request, url_for
from werkzeug.http import parse_dict_header

from api.errors import UnprocessableInput, UnsupportedMediaType
from api.inputs import image_uploads, is_multipart, webhook_from
from api.metrics import count_submission
from api.openapi import Blueprint, View
from api.schemas import (
    ImageJobRequestSchema,
    JobSchema,
    SubmitHeadersSchema,
    TabularJobRequestSchema,
    VersionQuerySchema,
    WaitQuerySchema,
)
from api.services import services
from models.manifest import Manifest
from models.store import ModelStore
from models.validation import validate_instances
from worker.dispatch import Submission
from worker.documents import JobStatus

bp = Blueprint("jobs", __name__, url_prefix="/v1", api_key=True, description="Submit, read and cancel jobs.")

JSON, MULTIPART = "application/json", "multipart/form-data"
_BODIES = {JSON: TabularJobRequestSchema, MULTIPART: ImageJobRequestSchema}
JOB_HEADERS = {
    "Location": {"description": "The job's URL.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when an Idempotency-Key replayed an earlier job.",
        "schema": {"type": "string"},
    },
}
_WAITED_HEADERS = {
    **JOB_HEADERS,
    "Preference-Applied": {"description": "The `wait=N` honoured.", "schema": {"type": "string"}},
}


def submit_endpoint(blueprint: Blueprint, *media: str) -> Callable[[View], View]:
    """The arguments and documentation of a submit route taking bodies of the ``media`` types.

    The body itself is parsed in :func:`submit`, once the model says which kind it takes.
    """

    def decorate(view: View) -> View:
        for decorator in (
            blueprint.errors(400, 404, 409, 413, 415, 422, 429, 503),
            blueprint.alt_response(
                200, schema=JobSchema, success=True, headers=_WAITED_HEADERS,
                description="The finished job: `Prefer: wait=N` and it finished in time.",
            ),
            blueprint.response(202, JobSchema, headers=JOB_HEADERS, description="The job, accepted."),
            blueprint.doc(
                requestBody={"required": True, "content": {m: {"schema": _BODIES[m]} for m in media}}
            ),
            blueprint.arguments(SubmitHeadersSchema, location="headers", arg_name="headers", error_status_code=400),
            blueprint.arguments(VersionQuerySchema, location="query", arg_name="query", error_status_code=400),
        ):
            view = decorator(view)
        return view

    return decorate


@bp.post("/models/<name>/jobs")
@submit_endpoint(bp, JSON, MULTIPART)
def create_job(name: str, query: dict[str, Any], headers: dict[str, Any]) -> Response:
    """Submit a prediction job

    Tabular models take JSON rows, image models multipart/form-data `image`
    parts. 202 with the job and its Location, or 200 with the finished job
    when `Prefer: wait=N` was asked for and the job finished in time.
    """
    return submit(name, query, headers)


def submit(name: str, query: dict[str, Any], headers: dict[str, Any]) -> Response:
    """Validate the request for model ``name``, queue it, answer 202.

    ``Prefer: wait=N`` answers 200 with the finished job when it ends within
    N seconds; ``Cache-Control: no-cache`` skips the result cache lookup and
    ``no-store`` keeps the request out of the cache altogether.
    """
    svc = services()
    parser = bp.ARGUMENTS_PARSER
    options = {
        "idempotency_key": headers.get("idempotency_key"),
        "cache_lookup": not request.cache_control.no_cache,
        "cache_store": not request.cache_control.no_store,
    }
    # The latest version says what the model takes: an unknown model is a 404
    # and the wrong kind of body a 415, before any of the body is parsed.
    latest = svc.store.get(name)
    if latest.is_image_model:
        if not is_multipart(request):
            raise UnsupportedMediaType(f"{name} takes multipart/form-data with 'image' parts")
        body = parser.parse(ImageJobRequestSchema, request, location="multipart")
        manifest = _pinned(svc.store, latest, query.get("version") or body.get("version"))
        webhook = webhook_from(body, svc.settings.webhooks)
        blobs = image_uploads(body["image"], svc.settings.serving.max_pixels)
        submission = Submission(g.owner, manifest, blobs=blobs, webhook=webhook, **options)
    else:
        body = parser.parse(TabularJobRequestSchema, request, location="json")
        manifest = _pinned(svc.store, latest, body.get("version", query.get("version")))
        webhook = webhook_from(body, svc.settings.webhooks)
        rows = validate_instances(manifest, body["instances"], current_app.config["PREDQ_MAX_INSTANCES"])
        submission = Submission(g.owner, manifest, rows=rows, webhook=webhook, **options)
    job, replayed = svc.dispatcher.submit(submission)
    if not replayed:
        count_submission(submission.manifest, job["cached"])
    wait = _preferred_wait(headers.get("prefer", ""), current_app.config["PREDQ_MAX_WAIT"])
    if wait is not None:
        job = svc.jobs.wait(job["id"], wait, g.owner)
    response = jsonify(job)
    response.status_code = 200 if wait is not None and JobStatus(job["status"]).is_terminal else 202
    response.headers["Location"] = url_for("jobs.get_job", job_id=job["id"])
    response.vary.add("Prefer")
    if wait is not None:
        response.headers["Preference-Applied"] = f"wait={wait:g}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _preferred_wait(prefer: str, limit: float) -> float | None:
    """Seconds asked for by ``Prefer: wait=N`` (RFC 7240), capped at ``limit``.

    A preference that cannot be honoured is ignored, as the RFC asks, rather
    than refused: the request is still accepted and answered 202.
    """
    value = parse_dict_header(prefer).get("wait")
    try:
        seconds = float(value) if value is not None else -1.0
    except ValueError:
        return None
    if not 0 <= seconds < float("inf"):
        return None
    return min(seconds, limit)


def _pinned(store: ModelStore, latest: Manifest, version: str | None) -> Manifest:
    """The requested version (``latest`` when none), which must take the same input kind.

    ``latest`` was already read to choose the body's parser: most requests ask
    for no version, and the manifest is not read from disk a second time.
    """
    if version is None or version == latest.version:
        return latest
    manifest = store.get(latest.name, version)
    if manifest.is_image_model != latest.is_image_model:
        raise UnprocessableInput(f"{manifest.ref} takes a different input from the latest version")
    return manifest


@bp.get("/jobs/<job_id>")
@bp.arguments(WaitQuerySchema, location="query", arg_name="query", error_status_code=400)
@bp.response(200, JobSchema)
@bp.errors(400, 404, 429, 503)
def get_job(job_id: str, query: dict[str, Any]) -> Response:
    """Read a job

    With `?wait=N` the answer comes as soon as the job is finished, or after N seconds.
    """
    jobs = services().jobs
    if "wait" not in query:
        return jsonify(jobs.get(job_id, g.owner))
    return jsonify(jobs.wait(job_id, query["wait"], g.owner))


@bp.delete("/jobs/<job_id>")
@bp.response(200, JobSchema, description="The cancelled job.")
@bp.errors(404, 409, 429, 503)
def cancel_job(job_id: str) -> Response:
    """Cancel a queued or running job

    409 if it already finished.
    """
    jobs = services().jobs
    jobs.cancel(job_id, g.owner)
    return jsonify(jobs.get(job_id, g.owner))
