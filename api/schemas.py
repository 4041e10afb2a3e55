"""Marshmallow schemas of what the API takes and answers: they validate requests and make the spec.

Answers are built by the views (``jsonify``); their schemas here only document them.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest.fields import Upload
from marshmallow import INCLUDE, Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from models.manifest import Family, Task
from worker.documents import JobStatus


class VersionField(fields.String):
    """A model version name; a JSON integer (``"version": 2``) is taken as its string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class FilePart(Upload):
    """A file part of a multipart body; a plain form field of the same name is refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ValidationError("must be a file part (with a filename), not a form field")
        return value


_VERSION = {"description": "A version of the model; the latest when left out.", "example": "1"}


# Requests


class WebhookFieldsSchema(Schema):
    """The optional webhook of a submit, JSON or multipart (see the README's Webhooks)."""

    webhook = fields.String(
        # The rest of the checks (scheme, host, address) are worker/webhook_targets.py's.
        validate=validate.Length(max=2048, error="the webhook URL is longer than {max} characters"),
        error_messages={"invalid": "must be a URL string"},
        metadata={
            "description": "An http(s) URL to POST the finished job to, signed as Standard "
            "Webhooks asks (webhook-id, webhook-timestamp, webhook-signature).",
            "example": "https://example.com/hooks/predq",
        },
    )
    webhook_events = fields.List(
        fields.String(),
        metadata={
            "description": "Which endings to send: `completed`, `failed`, `cancelled` "
            "(default `completed`, `failed`). A form may repeat the field or comma-separate it.",
            "example": ["completed", "failed"],
        },
    )


class TabularJobRequestSchema(WebhookFieldsSchema):
    """Rows for a tabular model. Each row's length and numbers are checked against the model."""

    error_messages = {"type": "the JSON body must be an object"}

    # Rows stay raw here: their length and values depend on the model's manifest,
    # which models/validation.py checks in one pass over the numbers.
    instances = fields.List(
        fields.Raw(metadata={"type": "array", "items": {"type": "number"}}),
        required=True,
        validate=validate.Length(min=1, error="'instances' must be a non-empty list of rows"),
        metadata={
            "description": "Rows of numbers, as many per row as the model's input_schema.n_features.",
            "example": [[5.1, 3.5, 1.4, 0.2]],
        },
    )
    version = VersionField(metadata=_VERSION)


class ImageJobRequestSchema(WebhookFieldsSchema):
    """PNG or JPEG images for an image model, one ``image`` part each."""

    image = fields.List(
        FilePart(),
        required=True,
        metadata={"description": "One part per image, PNG or JPEG; results come back in this order."},
    )
    version = VersionField(metadata=_VERSION)


class VersionQuerySchema(Schema):
    """``?version=``: pin a model version."""

    version = fields.String(metadata=_VERSION)


def _within_max_wait(seconds: float) -> None:
    limit = current_app.config["PREDQ_MAX_WAIT"]
    if not 0 <= seconds <= limit:
        raise ValidationError(f"must be between 0 and {limit:g} seconds")


class WaitQuerySchema(Schema):
    """``?wait=N``: long-poll a job."""

    wait = fields.Float(
        validate=_within_max_wait,
        metadata={
            "description": "Answer as soon as the job is finished, or after this many seconds "
            "(0 to PREDQ_MAX_WAIT, 30 by default).",
            "example": 10,
        },
    )


class IdempotencyHeadersSchema(Schema):
    """``Idempotency-Key``: what makes retrying a POST that creates a job safe."""

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=255),
        metadata={
            "description": "Retrying with the same key and body returns the first job (with "
            "`Idempotent-Replayed: true`); the same key with another body is a 422, and one whose "
            "first request is still being accepted a 409. Keys are per API key.",
        },
    )


class SubmitHeadersSchema(IdempotencyHeadersSchema):
    """The request headers a submit honours."""

    prefer = fields.String(
        data_key="Prefer",
        metadata={
            "description": "RFC 7240 `wait=N`: hold the answer up to N seconds (capped at "
            "PREDQ_MAX_WAIT) and answer 200 with the job if it finished by then. A preference "
            "that cannot be honoured is ignored.",
            "example": "wait=10",
        },
    )
    cache_control = fields.String(
        data_key="Cache-Control",
        metadata={
            "description": "`no-cache`: do not answer from the result cache; `no-store`: keep "
            "this request's results out of it too.",
            "example": "no-cache",
        },
    )


# Answers


class Answer(Schema):
    """Base of the answers' schemas: clients should ignore fields they do not know."""

    class Meta:
        unknown = INCLUDE


class ErrorDetailSchema(Answer):
    """What went wrong, for programs (``code``) and people (``message``)."""

    code = fields.String(required=True, metadata={"example": "invalid_input"})
    message = fields.String(required=True, metadata={"example": "instances[0] has 3 features; iris-tree@1 expects 4"})


class ErrorSchema(Answer):
    """The body of every error answer."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class ProgressSchema(Answer):
    """Items done out of the job's total."""

    done = fields.Integer(required=True)
    total = fields.Integer(required=True)


class ItemResultSchema(Answer):
    """One item's result: a class (label, class_name, probabilities), a value, or an error."""

    label = fields.Integer()
    class_name = fields.String()
    probabilities = fields.Dict(keys=fields.String(), values=fields.Float())
    value = fields.Float(metadata={"description": "A regression model's prediction."})
    error = fields.Nested(ErrorDetailSchema, metadata={"description": "This item failed; the others did not."})


class DeliverySchema(Answer):
    """One attempt to deliver a job's webhook."""

    attempt = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    status_code = fields.Integer(allow_none=True, metadata={"description": "The receiver's answer."})
    error = fields.String(allow_none=True)
    next_retry_at = fields.DateTime(metadata={"description": "When a failed attempt is retried."})


class JobWebhookSchema(Answer):
    """A job's webhook and its delivery log."""

    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    state = fields.String(
        allow_none=True,
        metadata={
            "description": "null until the job ends with one of its events; then scheduled, "
            "retrying, delivered or failed.",
        },
    )
    deliveries = fields.List(fields.Nested(DeliverySchema), required=True)


class JobSchema(Answer):
    """A job document."""

    id = fields.String(required=True)
    model = fields.String(required=True, metadata={"example": "iris-tree@1"})
    status = fields.Enum(JobStatus, by_value=True, required=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    progress = fields.Nested(ProgressSchema, required=True)
    attempts = fields.Integer(required=True)
    result = fields.List(
        fields.Nested(ItemResultSchema, allow_none=True),
        allow_none=True,
        metadata={"description": "One entry per input item, in input order; null until items finish."},
    )
    error = fields.Nested(ErrorDetailSchema, allow_none=True, metadata={"description": "Why the job failed."})
    cached = fields.Boolean(required=True, metadata={"description": "Answered from the result cache."})
    webhook = fields.Nested(JobWebhookSchema, allow_none=True, metadata={"description": "Null without one."})


class ManifestSchema(Answer):
    """Everything predq knows about one model version."""

    name = fields.String(required=True)
    version = fields.String(required=True)
    family = fields.Enum(Family, by_value=True, required=True)
    task = fields.Enum(Task, by_value=True, required=True)
    input_schema = fields.Dict(
        required=True,
        metadata={
            "description": "Tabular: kind, n_features, feature_names. "
            "Image: kind, width, height, channels, mean, std."
        },
    )
    artifact = fields.String()
    sha256 = fields.String()
    class_names = fields.List(fields.String(), allow_none=True)
    library_versions = fields.Dict(keys=fields.String(), values=fields.String())
    metrics = fields.Dict()
    created_at = fields.String()
    description = fields.String()


class ModelSummarySchema(Answer):
    """A model: its versions and its latest manifest."""

    name = fields.String(required=True)
    versions = fields.List(fields.String(), required=True)
    latest = fields.Nested(ManifestSchema, required=True)


class ModelListSchema(Answer):
    """Every model in the store."""

    models = fields.List(fields.Nested(ModelSummarySchema), required=True)


class CacheCountsSchema(Answer):
    """Result cache lookups of one model version."""

    hits = fields.Integer()
    misses = fields.Integer()


class CacheStatsSchema(Answer):
    """The result cache's state and counters."""

    enabled = fields.Boolean(required=True)
    ttl = fields.Integer(required=True, metadata={"description": "Seconds a result stays cached."})
    models = fields.Dict(keys=fields.String(), values=fields.Nested(CacheCountsSchema), required=True)


class HealthSchema(Answer):
    """Liveness."""

    status = fields.String(required=True, metadata={"example": "ok"})


class ReadinessSchema(Answer):
    """Readiness: Redis reachable and every queue consumed."""

    ready = fields.Boolean(required=True)
    broker = fields.String(required=True, metadata={"example": "ok"})
    workers = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Consuming workers per queue."},
    )
