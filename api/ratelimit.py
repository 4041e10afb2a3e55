"""Per-key rate limits with Flask-Limiter, counted in the same Redis as the jobs."""
from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from api.services import Services


def init_rate_limits(app: Flask, svc: Services) -> Limiter | None:
    """Apply ``PREDQ_RATE_LIMIT`` to every route but the health probes; None if unset."""
    limit = app.config["PREDQ_RATE_LIMIT"]
    if not limit:
        return None
    limiter = Limiter(
        key_func=lambda: svc.keys.rate_limit_key(
            request.headers.get("Authorization"), get_remote_address()
        ),
        app=app,
        default_limits=[limit],
        storage_uri=svc.settings.redis_url,
        headers_enabled=True,  # Retry-After and X-RateLimit-* on every answer
        swallow_errors=True,  # Redis down: answer (503 from the views), don't 500 here
        key_prefix="predq:ratelimit",
    )
    return limiter
