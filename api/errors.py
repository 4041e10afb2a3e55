"""Every error the API can answer, mapped to HTTP in this one place."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from models.errors import (
    ImageTooLarge,
    IntegrityError,
    InvalidInput,
    ModelError,
    ModelNotFound,
    TooMuchTrainingData,
)
from worker.errors import (
    BrokerUnavailable,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    JobFinished,
    JobNotFound,
    TooManyJobs,
    WorkerError,
)

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Base class of errors raised by the API itself (bad requests)."""

    status = 400
    code = "bad_request"


class MalformedRequest(ApiError):
    """The body cannot be parsed (not JSON, bad multipart, bad query value)."""

    status = 400
    code = "malformed_request"


class UnprocessableInput(ApiError):
    """Well-formed, but not what the endpoint or model accepts."""

    status = 422
    code = "invalid_input"


class Unauthenticated(ApiError):
    """No API key, or one the operator did not configure."""

    status = 401
    code = "unauthorized"


class UnsupportedMediaType(ApiError):
    """A content type the endpoint (or the model) does not take."""

    status = 415
    code = "unsupported_media_type"


# (exception class, HTTP status); the first matching entry wins.
_STATUS: list[tuple[type[Exception], int]] = [
    (ModelNotFound, 404),
    (ImageTooLarge, 413),
    (TooMuchTrainingData, 413),
    (InvalidInput, 422),
    (IntegrityError, 500),
    (ModelError, 500),
    (JobNotFound, 404),
    (JobFinished, 409),
    (IdempotencyKeyInFlight, 409),
    (IdempotencyKeyReused, 422),
    (TooManyJobs, 429),
    (BrokerUnavailable, 503),
    (WorkerError, 500),
]


def error_response(status: int, code: str, message: str) -> Response:
    """The JSON body every error shares: ``{"error": {"code", "message"}}``."""
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="predq"'
    return response


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_")


def _flatten(messages: Any, path: str = "") -> list[str]:
    """webargs' nested error messages as ``location.field: message`` lines."""
    if isinstance(messages, dict):
        return [line for key, value in messages.items() for line in _flatten(value, f"{path}{key}.")]
    if isinstance(messages, list):
        return [line for value in messages for line in _flatten(value, path)]
    return [f"{path.rstrip('.')}: {messages}"]


def register_error_handlers(app: Flask) -> None:
    """Turn every exception into a JSON error with the right status."""

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, str(exc))

    @app.errorhandler(ModelError)
    @app.errorhandler(WorkerError)
    def domain_error(exc: Exception) -> Response:
        status = next(s for cls, s in _STATUS if isinstance(exc, cls))
        if status >= 500:
            log.error("%s: %s (cause: %r)", type(exc).__name__, exc, exc.__cause__)
        response = error_response(status, exc.code, str(exc))  # type: ignore[attr-defined]
        if status in (429, 503):
            # Flask-Limiter's own 429s carry their exact Retry-After; these are a guess.
            response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        messages = getattr(exc, "data", {}).get("messages")
        if exc.code in (400, 422) and messages:
            # webargs (flask-smorest's @arguments): what failed, by location and field.
            cls = MalformedRequest if exc.code == 400 else UnprocessableInput
            return error_response(exc.code, cls.code, "; ".join(_flatten(messages)))
        return error_response(exc.code or 500, _http_code(exc), exc.description or "")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "an unexpected error occurred")
