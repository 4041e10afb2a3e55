"""Parsing request bodies strictly: JSON instances and multipart images."""
from __future__ import annotations

import json
from typing import Any

from flask import Request, current_app

from api.errors import MalformedRequest, UnprocessableInput, UnsupportedMediaType
from models import images
from models.errors import InvalidInput
from models.manifest import Manifest
from models.validation import validate_instances
from worker.settings import WebhookSettings
from worker.webhook_targets import WebhookTarget, webhook_target

# Optional on every submit, JSON or multipart.
WEBHOOK_FIELDS = {"webhook", "webhook_events"}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_body(request: Request, allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object; rejects NaN/Infinity, deep nesting and unknown fields."""
    if not request.is_json:
        raise UnsupportedMediaType("send JSON with Content-Type: application/json")
    try:
        body = json.loads(request.get_data(), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest(f"malformed JSON: {str(exc)[:200]}") from None
    if not isinstance(body, dict):
        raise UnprocessableInput("the JSON body must be an object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise UnprocessableInput(f"unknown field(s): {', '.join(unknown)}")
    return body


def rows_from(manifest: Manifest, body: dict[str, Any]) -> list[list[float]]:
    """Validated rows for a tabular model."""
    if "instances" not in body:
        raise UnprocessableInput("missing field 'instances'")
    return validate_instances(manifest, body["instances"], current_app.config["PREDQ_MAX_INSTANCES"])


def is_multipart(request: Request) -> bool:
    """True for a multipart/form-data request."""
    return request.mimetype == "multipart/form-data"


def image_uploads(request: Request, max_pixels: int) -> list[bytes]:
    """The bytes of every ``image`` part, each checked to be a PNG or JPEG."""
    unknown = sorted((set(request.files) - {"image"}) | (set(request.form) - {"version", *WEBHOOK_FIELDS}))
    if unknown:
        raise UnprocessableInput(f"unknown form field(s): {', '.join(unknown)}; send 'image' parts")
    parts = request.files.getlist("image")
    if not parts:
        raise UnprocessableInput("no 'image' part in the upload")
    if len(parts) > current_app.config["PREDQ_MAX_IMAGES"]:
        raise UnprocessableInput(
            f"too many images: {len(parts)} > {current_app.config['PREDQ_MAX_IMAGES']}"
        )
    blobs = []
    for i, part in enumerate(parts):
        data = part.read()
        try:
            images.inspect(data, max_pixels)
        except InvalidInput as exc:
            raise type(exc)(f"image {i} ({part.filename or 'unnamed'}): {exc}") from None
        blobs.append(data)
    return blobs


def form_webhook_fields(request: Request) -> dict[str, Any]:
    """``webhook`` and ``webhook_events`` of a form; events repeated or comma-separated."""
    fields: dict[str, Any] = {"webhook": request.form.get("webhook")}
    if "webhook_events" in request.form:
        values = request.form.getlist("webhook_events")
        fields["webhook_events"] = [e.strip() for v in values for e in v.split(",") if e.strip()]
    return fields


def webhook_from(fields: dict[str, Any], settings: WebhookSettings) -> WebhookTarget | None:
    """The webhook a submit asks for (``webhook`` URL, ``webhook_events`` list), or None."""
    url, events = fields.get("webhook"), fields.get("webhook_events")
    if url is None:
        if events is not None:
            raise UnprocessableInput("'webhook_events' needs a 'webhook' URL")
        return None
    if not isinstance(url, str):
        raise UnprocessableInput("'webhook' must be a URL string")
    if events is not None and not (
        isinstance(events, list) and all(isinstance(e, str) for e in events)
    ):
        raise UnprocessableInput("'webhook_events' must be a list of event names")
    return webhook_target(url, events, settings)
