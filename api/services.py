"""The long-lived objects a request needs, built once by the app factory."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from celery import Celery
from flask import current_app

from api.auth import ApiKeys
from models.store import ModelStore
from worker.admission import Admission
from worker.batching import PendingChunks
from worker.cache import ResultCache
from worker.celery_app import create_celery_app
from worker.dispatch import Dispatcher
from worker.jobs import JobStore
from worker.settings import Settings
from worker.webhooks import scheduler


@dataclasses.dataclass(frozen=True)
class Services:
    """Model manifests, job records, the result cache, the dispatcher and who may call."""

    settings: Settings
    store: ModelStore
    jobs: JobStore
    cache: ResultCache
    celery: Celery
    dispatcher: Dispatcher
    keys: ApiKeys

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Services:
        """Build the services from the app's config; nothing connects until first used."""
        settings: Settings = config["PREDQ_SETTINGS"]
        celery = create_celery_app(settings)
        # Jobs the API ends (cancelled, answered from the cache, never queued) get their webhooks too.
        jobs = JobStore.from_url(
            settings.redis_url, settings.job_ttl, settings.secret_key, scheduler(celery)
        )
        admission = Admission(jobs.redis, settings.job_ttl, settings.max_outstanding_jobs)
        cache = ResultCache(jobs.redis, settings.cache_ttl)
        pending = PendingChunks(jobs.redis, settings.job_ttl)
        return cls(
            settings=settings,
            store=ModelStore(settings.model_dir),
            jobs=jobs,
            cache=cache,
            celery=celery,
            dispatcher=Dispatcher(
                celery,
                jobs,
                admission,
                cache,
                pending,
                settings.image_chunk_size,
                settings.batch_limits,
            ),
            keys=ApiKeys.parse(config["PREDQ_AUTH"], config["PREDQ_API_KEYS"]),
        )


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["predq"]
