"""The Celery application factory."""
from __future__ import annotations

from celery import Celery

from worker.config import celery_config
from worker.settings import Settings


def create_celery_app(settings: Settings | None = None) -> Celery:
    """A Celery app configured from ``settings`` (default: the environment).

    The settings ride along on the app as ``app.predq_settings`` so tasks
    can build their per-process runtime from them.
    """
    settings = settings or Settings.from_env()
    app = Celery("predq", include=["worker.tasks"])
    app.config_from_object(celery_config(settings))
    app.predq_settings = settings  # type: ignore[attr-defined]
    return app
