"""The client's exceptions: one base class, and one subclass per kind of refusal."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from client.types import Job


class PredqError(Exception):
    """Base class of every error the predq client raises."""


class ConnectionFailed(PredqError):
    """The server could not be reached, even after retrying."""


class WaitTimeout(PredqError):
    """A job was not finished when the client's own timeout ran out."""

    def __init__(self, job: Job, timeout: float) -> None:
        super().__init__(f"job {job.id} still {job.status.value} after {timeout:g} s")
        self.job = job


class ApiError(PredqError):
    """The server answered with an error: its HTTP status, ``error.code`` and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class InvalidRequest(ApiError):
    """400, 413, 415 or 422: the request itself is wrong; retrying cannot help."""


class Unauthorized(ApiError):
    """401: no API key, or one the server does not know."""


class NotFound(ApiError):
    """404: no such model, version or job (or another key's job)."""


class Conflict(ApiError):
    """409: the job already finished, or an idempotent submit is still in flight."""


class RateLimited(ApiError):
    """429: still over the rate limit or the outstanding-job cap after every retry."""


class Unavailable(ApiError):
    """503 (or another 5xx): the server or its broker is unavailable or failing."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    413: InvalidRequest,
    415: InvalidRequest,
    422: InvalidRequest,
    429: RateLimited,
}


def error_for(status: int, code: str, message: str) -> ApiError:
    """The exception for an error answer, by its HTTP status."""
    cls = _BY_STATUS.get(status, Unavailable if status >= 500 else ApiError)
    return cls(status, code, message)
