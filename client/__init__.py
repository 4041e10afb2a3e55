"""A Python client for predq's HTTP API.

It needs only ``httpx`` (and ``tenacity`` for retries): none of the server's
packages, Flask, Celery, Redis, PyTorch or scikit-learn.

    from client import Client
    with Client("http://127.0.0.1:8000", api_key=key) as predq:
        job = predq.predict("iris-svm", [[5.1, 3.5, 1.4, 0.2]])
        print(job.result[0].class_name)
"""
from client.client import Client
from client.errors import (
    ApiError,
    Conflict,
    ConnectionFailed,
    InvalidRequest,
    NotFound,
    PredqError,
    RateLimited,
    Unauthorized,
    Unavailable,
    WaitTimeout,
)
from client.types import (
    BatchProgress,
    ClassResult,
    ErrorDetail,
    ImageResult,
    Job,
    JobStatus,
    Progress,
    TrainingResult,
    ValueResult,
)

__all__ = [
    "ApiError", "BatchProgress", "ClassResult", "Client", "Conflict", "ConnectionFailed",
    "ErrorDetail", "ImageResult", "InvalidRequest", "Job", "JobStatus", "NotFound",
    "PredqError", "Progress", "RateLimited", "TrainingResult", "Unauthorized", "Unavailable",
    "ValueResult", "WaitTimeout",
]  # fmt: skip
