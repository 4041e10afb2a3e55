"""Every error the API can answer, mapped to HTTP in this one place."""
from __future__ import annotations

import logging
from collections.abc import Mapping
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
    WebhookRefused,
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
    (WebhookRefused, 422),
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


# webargs' statuses for a request failing its schema: 422 for bodies, 400 where
# a view asks for it (query values and headers, as before the schemas).
_VALIDATION_CODES = {
    400: MalformedRequest.code,
    415: UnsupportedMediaType.code,
    422: UnprocessableInput.code,
}


def _join(path: str, key: Any) -> str:
    if key == "_schema":  # marshmallow's key for errors of the whole object
        return path
    return f"{path}.{key}" if path else str(key)


def _describe(messages: Any, path: str = "") -> list[str]:
    """webargs' nested messages, ``{"json": {"colour": ["Unknown field."]}}``, as lines."""
    if isinstance(messages, Mapping):
        return [
            line
            for key, value in messages.items()
            for line in _describe(value, _join(path, key))
        ]
    if isinstance(messages, list):
        return [line for message in messages for line in _describe(message, path)]
    location, _, field = path.partition(".")
    return [f"{location} {field!r}: {messages}" if field else f"{location}: {messages}"]


def http_error(exc: HTTPException) -> Response:
    """An HTTP error (Werkzeug's, or webargs' for a request failing its schema) as JSON."""
    status = exc.code or 500
    data = getattr(exc, "data", None)  # webargs puts the schema's messages here
    if isinstance(data, Mapping) and "messages" in data:
        code = _VALIDATION_CODES.get(status, _http_code(exc))
        return error_response(status, code, "; ".join(_describe(data["messages"])))
    return error_response(status, _http_code(exc), exc.description or "")


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

    app.register_error_handler(HTTPException, http_error)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "an unexpected error occurred")
