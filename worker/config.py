"""Celery configuration derived from :class:`worker.settings.Settings`."""
from __future__ import annotations

from typing import Any

from worker.settings import TABULAR_QUEUE, TRAINING_QUEUE, VISION_QUEUE, WEBHOOK_QUEUE, Settings

PREDICT_ROWS = "predq.predict_rows"
PREDICT_IMAGES = "predq.predict_images"
DELIVER_WEBHOOK = "predq.deliver_webhook"
TRAIN_MODEL = "predq.train_model"


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery settings predq runs with; every choice here is deliberate."""
    transport = {
        "visibility_timeout": settings.visibility_timeout,
        # Sweep for messages of crashed workers often enough that they come
        # back soon after their visibility timeout, not up to 100 s later.
        "unacked_restore_interval": max(1, min(10, settings.visibility_timeout // 10)),
        "unacked_restore_throttle": 1,
    }
    return {
        "broker_url": settings.broker_url,
        # Celery reads the visibility timeout in these three places; keep them equal.
        "visibility_timeout": settings.visibility_timeout,
        "broker_transport_options": transport,
        "result_backend_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 2,
        # Fail a submit fast (the API answers 503) instead of hanging on a dead broker.
        "task_publish_retry_policy": {
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        # JSON only: a pickled message from the queue is never deserialised.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "event_serializer": "json",
        # predq keeps its own job records, so Celery's result backend is not used.
        "task_ignore_result": True,
        # At-least-once: ack after the task ran, requeue when a pool child dies.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # A cold shutdown (SIGQUIT, or SIGTERM with REMAP_SIGTERM=SIGQUIT) first
        # lets running tasks finish for this long, then requeues what is left.
        "worker_soft_shutdown_timeout": settings.soft_shutdown_timeout,
        "worker_enable_soft_shutdown_on_idle": True,
        # Time limits stay below the visibility timeout (Settings checks it).
        "task_time_limit": settings.task_time_limit,
        "task_soft_time_limit": max(1, int(settings.task_time_limit * 0.9)),
        "task_routes": {
            PREDICT_ROWS: {"queue": TABULAR_QUEUE},
            PREDICT_IMAGES: {"queue": VISION_QUEUE},
            DELIVER_WEBHOOK: {"queue": WEBHOOK_QUEUE},
            TRAIN_MODEL: {"queue": TRAINING_QUEUE},
        },
        "task_default_queue": TABULAR_QUEUE,
        "worker_hijack_root_logger": False,
    }
