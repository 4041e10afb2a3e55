"""API settings, read from ``PREDQ_*`` environment variables in one place."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from worker.settings import Settings


def load_config(env: Mapping[str, str]) -> dict[str, Any]:
    """Flask config keys for the API process, from the environment."""
    max_images = int(env.get("PREDQ_MAX_IMAGES", 10_000))
    return {
        "PREDQ_SETTINGS": Settings.from_env(env),
        # Werkzeug answers 413 past these before a view runs.
        "MAX_CONTENT_LENGTH": int(env.get("PREDQ_MAX_UPLOAD_BYTES", 64 * 1024 * 1024)),
        "MAX_FORM_PARTS": max_images + 10,
        "PREDQ_MAX_IMAGES": max_images,
        "PREDQ_MAX_INSTANCES": int(env.get("PREDQ_MAX_INSTANCES", 10_000)),
        "PREDQ_MAX_TRAINING_ROWS": int(env.get("PREDQ_MAX_TRAINING_ROWS", 100_000)),
        "PREDQ_MAX_WAIT": float(env.get("PREDQ_MAX_WAIT", 30)),
        "PREDQ_DEFAULT_TABULAR_MODEL": env.get("PREDQ_DEFAULT_TABULAR_MODEL", "iris-tree"),
        "PREDQ_DEFAULT_IMAGE_MODEL": env.get("PREDQ_DEFAULT_IMAGE_MODEL", "digits-cnn"),
        "PREDQ_AUTH": env.get("PREDQ_AUTH", "keys"),
        "PREDQ_API_KEYS": env.get("PREDQ_API_KEYS", ""),
        # e.g. "20 per second;1000 per minute" (Flask-Limiter syntax); empty: no limit.
        "PREDQ_RATE_LIMIT": env.get("PREDQ_RATE_LIMIT", ""),
        # /metrics asks for 'Authorization: Bearer <token>' when set; empty: open.
        "PREDQ_METRICS_TOKEN": env.get("PREDQ_METRICS_TOKEN", ""),
        # Set by `predq api` for gunicorn's processes (prometheus_client's own variable).
        "PROMETHEUS_MULTIPROC_DIR": env.get("PROMETHEUS_MULTIPROC_DIR"),
    }
