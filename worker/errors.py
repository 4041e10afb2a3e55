"""Exceptions of the worker package; all derive from WorkerError."""


class WorkerError(Exception):
    """Base class for every error raised by the worker package."""

    code = "worker_error"


class BrokerUnavailable(WorkerError):
    """Redis (job records) or the Celery broker cannot be reached."""

    code = "broker_unavailable"


class JobNotFound(WorkerError):
    """No job with that id (never existed, or its record expired)."""

    code = "unknown_job"


class JobFinished(WorkerError):
    """The job is already in a terminal state, so it cannot be cancelled."""

    code = "job_finished"


class InputsExpired(WorkerError):
    """A job's uploaded inputs are gone from Redis (their TTL ran out)."""

    code = "inputs_expired"


class TooManyJobs(WorkerError):
    """The owner already has as many unfinished jobs as allowed."""

    code = "too_many_jobs"


class IdempotencyKeyReused(WorkerError):
    """An Idempotency-Key sent again with a different request."""

    code = "idempotency_key_reused"


class IdempotencyKeyInFlight(WorkerError):
    """The first request with this Idempotency-Key is still being accepted."""

    code = "idempotency_key_in_flight"


class WebhookRefused(WorkerError):
    """A webhook URL or event this deployment does not deliver to."""

    code = "invalid_webhook"
