"""Jobs: submit to a model, read (or long-poll) a job, cancel it."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from werkzeug.http import parse_dict_header

from api.auth import authenticate
from api.errors import MalformedRequest, UnprocessableInput, UnsupportedMediaType
from api.inputs import image_uploads, is_multipart, json_body, rows_from
from api.metrics import count_submission
from api.services import services
from models.manifest import Manifest
from models.store import ModelStore
from worker.dispatch import Submission
from worker.documents import JobStatus

bp = Blueprint("jobs", __name__, url_prefix="/v1")
bp.before_request(authenticate)


@bp.post("/models/<name>/jobs")
def create_job(name: str) -> Response:
    """Accept a prediction job for ``name``; 202 with the job and its Location."""
    return submit(name)


def submit(name: str) -> Response:
    """Validate the request for model ``name``, queue it, answer 202.

    ``Prefer: wait=N`` answers 200 with the finished job when it ends within
    N seconds; ``Cache-Control: no-cache`` skips the result cache lookup and
    ``no-store`` keeps the request out of the cache altogether.
    """
    svc = services()
    options = {
        "idempotency_key": _idempotency_key(),
        "cache_lookup": not request.cache_control.no_cache,
        "cache_store": not request.cache_control.no_store,
    }
    # The latest version says what the model takes: an unknown model is a 404
    # and the wrong kind of body a 415, before any of the body is parsed.
    if svc.store.get(name).is_image_model:
        if not is_multipart(request):
            raise UnsupportedMediaType(f"{name} takes multipart/form-data with 'image' parts")
        version = request.args.get("version") or request.form.get("version")
        manifest = _pinned(svc.store, name, version, image=True)
        blobs = image_uploads(request, svc.settings.serving.max_pixels)
        submission = Submission(g.owner, manifest, blobs=blobs, **options)
    else:
        body = json_body(request, {"instances", "version"})
        manifest = _pinned(svc.store, name, body.get("version", request.args.get("version")), image=False)
        rows = rows_from(manifest, body)
        submission = Submission(g.owner, manifest, rows=rows, **options)
    job, replayed = svc.dispatcher.submit(submission)
    if not replayed:
        count_submission(submission.manifest, job["cached"])
    wait = _preferred_wait(request.headers.get("Prefer", ""), current_app.config["PREDQ_MAX_WAIT"])
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


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 255:
        raise MalformedRequest("Idempotency-Key must be 1 to 255 characters")
    return key


def _pinned(store: ModelStore, name: str, version: Any, image: bool) -> Manifest:
    """The requested (or latest) version, which must take the same input kind."""
    if version is not None and (isinstance(version, bool) or not isinstance(version, (str, int))):
        raise UnprocessableInput("'version' must be a string")
    manifest = store.get(name, None if version is None else str(version))
    if manifest.is_image_model != image:
        raise UnprocessableInput(f"{manifest.ref} takes a different input from the latest version")
    return manifest


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    """The job document; ``?wait=N`` returns as soon as the job is terminal (N <= 30 s)."""
    jobs = services().jobs
    wait = request.args.get("wait")
    if wait is None:
        return jsonify(jobs.get(job_id, g.owner))
    limit = current_app.config["PREDQ_MAX_WAIT"]
    try:
        seconds = float(wait)
    except ValueError:
        raise MalformedRequest(f"'wait' must be a number of seconds, got {wait!r}") from None
    if not 0 <= seconds <= limit:
        raise MalformedRequest(f"'wait' must be between 0 and {limit:g} seconds")
    return jsonify(jobs.wait(job_id, seconds, g.owner))


@bp.delete("/jobs/<job_id>")
def cancel_job(job_id: str) -> Response:
    """Cancel a queued or running job; 409 if it already finished."""
    jobs = services().jobs
    jobs.cancel(job_id, g.owner)
    return jsonify(jobs.get(job_id, g.owner))
