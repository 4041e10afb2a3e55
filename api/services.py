"""The long-lived objects a request needs, built once by the app factory."""
from __future__ import annotations

import dataclasses

from celery import Celery
from flask import current_app

from models.store import ModelStore
from worker.batching import PendingChunks
from worker.cache import ResultCache
from worker.celery_app import create_celery_app
from worker.jobs import JobStore
from worker.settings import Settings


@dataclasses.dataclass(frozen=True)
class Services:
    """Model store (manifests only), job store, result cache, batching list, Celery producer."""

    settings: Settings
    store: ModelStore
    jobs: JobStore
    cache: ResultCache
    pending: PendingChunks | None
    celery: Celery

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        """Build the services; nothing connects until first used."""
        jobs = JobStore.from_url(settings.redis_url, settings.job_ttl)
        return cls(
            settings=settings,
            store=ModelStore(settings.model_dir),
            jobs=jobs,
            cache=ResultCache(jobs.redis, settings.cache_ttl),
            # Listing chunks for batching is wasted work when workers do not batch.
            pending=(
                PendingChunks(jobs.redis, settings.job_ttl)
                if settings.vision_batch.enabled
                else None
            ),
            celery=create_celery_app(settings),
        )


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["predq"]
