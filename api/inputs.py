"""Request inputs checked against the model and the server's limits (shapes are the schemas')."""
from __future__ import annotations

from typing import Any

from flask import Request, current_app
from werkzeug.datastructures import FileStorage

from api.errors import UnprocessableInput
from models import images
from models.errors import InvalidInput
from worker.settings import WebhookSettings
from worker.webhook_targets import WebhookTarget, webhook_target


def is_multipart(request: Request) -> bool:
    """True for a multipart/form-data request."""
    return request.mimetype == "multipart/form-data"


def image_uploads(parts: list[FileStorage], max_pixels: int) -> list[bytes]:
    """The bytes of every ``image`` part, each checked to be a PNG or JPEG."""
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


def webhook_from(body: dict[str, Any], settings: WebhookSettings) -> WebhookTarget | None:
    """The webhook a submit asks for (``webhook`` URL, ``webhook_events`` list), or None.

    A form may repeat ``webhook_events`` or comma-separate it; both are taken.
    """
    url, events = body.get("webhook"), body.get("webhook_events")
    if events is not None:
        events = [e.strip() for value in events for e in value.split(",") if e.strip()]
    if url is None:
        if events is not None:
            raise UnprocessableInput("'webhook_events' needs a 'webhook' URL")
        return None
    return webhook_target(url, events, settings)
