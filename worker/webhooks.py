"""Delivering a finished job to its webhook, signed as Standard Webhooks asks.

Each attempt posts the job document (its ``webhook`` log left out, so every
attempt sends the same body) with the ``webhook-id`` (the job id, the same on
every attempt, for receivers to drop duplicates), ``webhook-timestamp`` and
``webhook-signature`` headers, and appends what happened to the job's log.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from celery import Celery
from standardwebhooks import Webhook

from worker.config import DELIVER_WEBHOOK
from worker.documents import iso_time
from worker.errors import JobNotFound, WebhookRefused
from worker.jobs import JobStore
from worker.settings import WebhookSettings
from worker.webhook_targets import check_resolved

log = logging.getLogger(__name__)


def scheduler(celery: Celery) -> Callable[[str], None]:
    """``notify`` for a JobStore: queue the delivery of a job's webhook."""
    return lambda job_id: celery.send_task(DELIVER_WEBHOOK, args=[job_id])


def owner_secret(secret: str, owner: str) -> str:
    """The ``whsec_`` secret that signs ``owner``'s webhooks, derived from the deployment's.

    Each owner verifies with a secret of their own, so a receiver never takes
    a delivery of another owner's job (sent to its URL by that owner) as
    signed for it. Nothing is stored: a new PREDQ_WEBHOOK_SECRET changes them all.
    """
    key = base64.b64decode(secret.removeprefix("whsec_"))
    derived = hmac.new(key, b"predq webhook owner:" + owner.encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(derived).decode()


def signed_headers(secret: str, msg_id: str, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of a message ``body`` sent at ``now``."""
    return {
        "content-type": "application/json",
        "user-agent": "predq-webhooks",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
    }


def deliver(jobs: JobStore, job_id: str, settings: WebhookSettings) -> float | None:
    """Make the next delivery attempt of a job's webhook and log it on the job.

    Returns the seconds to wait before the next attempt, or None when there is
    none: delivered, refused (4xx other than 429, a redirect, a private
    address), out of attempts, or the job is gone.
    """
    owner = jobs.owner(job_id)
    try:
        job = jobs.get(job_id, owner)
    except JobNotFound:
        log.info("job %s expired before its webhook was delivered", job_id)
        return None
    hook = job.pop("webhook")
    # Only a claimed webhook is sent: a redelivered message of a settled
    # delivery, or a forged one for a job still running, does nothing.
    if hook is None or hook["state"] not in ("scheduled", "retrying"):
        return None
    attempt = len(hook["deliveries"]) + 1
    body = json.dumps(job, separators=(",", ":"))
    now = datetime.now(timezone.utc)
    entry: dict[str, Any] = {"attempt": attempt, "at": iso_time(now), "status_code": None, "error": None}
    retry_after = 0.0
    try:
        if not settings.enabled:
            raise WebhookRefused("no PREDQ_WEBHOOK_SECRET on the webhook worker")
        check_resolved(hook["url"], settings)
        response = httpx.post(
            hook["url"],
            content=body.encode(),
            headers=signed_headers(owner_secret(settings.secret, owner or ""), job_id, body, now),
            timeout=settings.timeout,
            follow_redirects=False,  # a redirect could lead anywhere, private addresses too
        )
    except WebhookRefused as exc:
        entry["error"], retry = str(exc), False
    except (httpx.HTTPError, OSError) as exc:
        entry["error"], retry = f"{type(exc).__name__}: {exc}"[:300], True
    else:
        entry["status_code"] = code = response.status_code
        retry = code >= 500 or code == 429
        retry_after = _retry_after(response) if code == 429 else 0.0
        if code < 200 or code >= 300:
            entry["error"] = f"HTTP {code}"
    delay = None
    if entry["error"] is None:
        state = "delivered"
    elif retry and attempt < settings.max_attempts:
        delay = min(settings.backoff_max, max(retry_after, backoff(attempt, settings)))
        state, entry["next_retry_at"] = "retrying", iso_time(now + timedelta(seconds=delay))
    else:
        state = "failed"
    jobs.log_delivery(job_id, entry, state)
    log.info("webhook of job %s, attempt %d: %s", job_id, attempt, entry["error"] or "delivered")
    return delay


def backoff(attempt: int, settings: WebhookSettings) -> float:
    """Seconds before the attempt after ``attempt``: exponential, with full jitter.

    Full jitter spreads the retries of many jobs whose receiver failed at the
    same moment, so they do not all come back at once.
    """
    return random.uniform(0, min(settings.backoff_max, settings.backoff * 2 ** (attempt - 1)))


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", 0)))
    except ValueError:
        return 0.0  # an HTTP date: the backoff decides
