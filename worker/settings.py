"""Worker-side settings, read from ``PREDQ_*`` environment variables in one place."""
from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from models.serving import ServingOptions, default_decode_threads

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
TABULAR_QUEUE = "tabular"
VISION_QUEUE = "vision"
QUEUES = (TABULAR_QUEUE, VISION_QUEUE)
# Webhook deliveries wait on other people's servers: never on a prediction queue.
WEBHOOK_QUEUE = "webhooks"
# Fitting models on posted data; not in QUEUES, which /readyz requires consumers for:
# predictions do not depend on it.
TRAINING_QUEUE = "training"
# Every queue a `predq worker` may consume.
WORKER_QUEUES = (*QUEUES, TRAINING_QUEUE, WEBHOOK_QUEUE)


@dataclasses.dataclass(frozen=True)
class BatchLimits:
    """When a worker closes a batch: at ``max_batch_size`` items or after ``max_delay_ms``."""

    max_batch_size: int = 64
    max_delay_ms: float = 2.0

    @property
    def enabled(self) -> bool:
        """A batch of at most one item is no batching."""
        return self.max_batch_size > 1


@dataclasses.dataclass(frozen=True)
class WebhookSettings:
    """Signing and delivering job webhooks (see :mod:`worker.webhooks`).

    ``secret`` (``whsec_<base64>``, one per deployment) signs every delivery;
    empty turns webhooks off. Attempt ``n`` waits a random time up to
    ``min(backoff * 2**(n-1), backoff_max)`` seconds before the next.
    """

    secret: str = ""
    max_attempts: int = 8
    backoff: float = 2.0
    backoff_max: float = 600.0
    timeout: float = 10.0
    allowed_hosts: tuple[str, ...] = ()
    allow_private: bool = False

    def __post_init__(self) -> None:
        if not self.secret:
            return
        try:
            key = base64.b64decode(self.secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            key = b""
        if not self.secret.startswith("whsec_") or len(key) < 24:
            raise ValueError("PREDQ_WEBHOOK_SECRET must be whsec_ and at least 24 random bytes in base64")

    @property
    def enabled(self) -> bool:
        """Webhooks are accepted only where deliveries can be signed."""
        return bool(self.secret)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything a worker (or the API, when enqueueing) needs to know.

    ``redis_url`` holds predq's job records, uploads and results;
    ``broker_url`` carries Celery messages (the same Redis by default).
    """

    redis_url: str = DEFAULT_REDIS_URL
    broker_url: str = DEFAULT_REDIS_URL
    model_dir: Path = Path("model_store")
    job_ttl: int = 24 * 3600
    visibility_timeout: int = 3600
    task_time_limit: int = 600
    image_chunk_size: int = 64
    max_attempts: int = 3
    max_outstanding_jobs: int = 10_000
    soft_shutdown_timeout: float = 25.0
    secret_key: str = ""
    cache_ttl: int = 3600
    # A worker serves Prometheus metrics on this port; None: no metrics server.
    metrics_port: int | None = None
    vision_batch: BatchLimits = BatchLimits()
    # Rows are cheap to predict together and a lone iris row should not wait:
    # bigger batches, shorter wait than images.
    tabular_batch: BatchLimits = BatchLimits(max_batch_size=256, max_delay_ms=1.0)
    serving: ServingOptions = ServingOptions()
    webhooks: WebhookSettings = WebhookSettings()

    def __post_init__(self) -> None:
        # Redis redelivers any message not acked within the visibility timeout:
        # a task allowed to run longer than that would run twice.
        if self.task_time_limit >= self.visibility_timeout:
            raise ValueError(
                "PREDQ_TASK_TIME_LIMIT must be below PREDQ_VISIBILITY_TIMEOUT "
                f"({self.task_time_limit} >= {self.visibility_timeout})"
            )
        # A retry waits as an unacked message: past the visibility timeout it would be sent twice.
        if self.webhooks.enabled and self.webhooks.backoff_max >= self.visibility_timeout:
            raise ValueError(
                "PREDQ_WEBHOOK_BACKOFF_MAX must be below PREDQ_VISIBILITY_TIMEOUT "
                f"({self.webhooks.backoff_max:g} >= {self.visibility_timeout})"
            )

    def batch_limits(self, queue: str) -> BatchLimits:
        """The batching limits of the workers of ``queue`` (tabular or vision)."""
        return self.vision_batch if queue == VISION_QUEUE else self.tabular_batch

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment (or from ``env``)."""
        env = os.environ if env is None else env
        redis_url = env.get("PREDQ_REDIS_URL", DEFAULT_REDIS_URL)
        threads = env.get("PREDQ_TORCH_THREADS")
        metrics_port = env.get("PREDQ_METRICS_PORT")
        return cls(
            redis_url=env.get("PREDQ_RESULT_BACKEND", redis_url),
            broker_url=env.get("PREDQ_BROKER_URL", redis_url),
            model_dir=Path(env.get("PREDQ_MODEL_DIR", "model_store")),
            job_ttl=int(env.get("PREDQ_JOB_TTL", 24 * 3600)),
            visibility_timeout=int(env.get("PREDQ_VISIBILITY_TIMEOUT", 3600)),
            task_time_limit=int(env.get("PREDQ_TASK_TIME_LIMIT", 600)),
            image_chunk_size=int(env.get("PREDQ_IMAGE_CHUNK_SIZE", 64)),
            max_attempts=int(env.get("PREDQ_MAX_ATTEMPTS", 3)),
            max_outstanding_jobs=int(env.get("PREDQ_MAX_OUTSTANDING_JOBS", 10_000)),
            soft_shutdown_timeout=float(env.get("PREDQ_SOFT_SHUTDOWN_TIMEOUT", 25)),
            secret_key=env.get("PREDQ_SECRET_KEY", ""),
            cache_ttl=int(env.get("PREDQ_CACHE_TTL", 3600)),
            metrics_port=int(metrics_port) if metrics_port else None,
            vision_batch=BatchLimits(
                max_batch_size=int(env.get("PREDQ_VISION_MAX_BATCH_SIZE", 64)),
                max_delay_ms=float(env.get("PREDQ_VISION_MAX_DELAY_MS", 2)),
            ),
            tabular_batch=BatchLimits(
                max_batch_size=int(env.get("PREDQ_TABULAR_MAX_BATCH_SIZE", 256)),
                max_delay_ms=float(env.get("PREDQ_TABULAR_MAX_DELAY_MS", 1)),
            ),
            serving=ServingOptions(
                device=env.get("PREDQ_DEVICE", "auto"),
                max_pixels=int(env.get("PREDQ_MAX_IMAGE_PIXELS", 40_000_000)),
                torch_threads=int(threads) if threads else None,
                decode_threads=int(env.get("PREDQ_DECODE_THREADS", default_decode_threads())),
            ),
            webhooks=WebhookSettings(
                secret=env.get("PREDQ_WEBHOOK_SECRET", ""),
                max_attempts=int(env.get("PREDQ_WEBHOOK_MAX_ATTEMPTS", 8)),
                backoff=float(env.get("PREDQ_WEBHOOK_BACKOFF", 2)),
                backoff_max=float(env.get("PREDQ_WEBHOOK_BACKOFF_MAX", 600)),
                timeout=float(env.get("PREDQ_WEBHOOK_TIMEOUT", 10)),
                allowed_hosts=tuple(
                    host.strip().lower()
                    for host in env.get("PREDQ_WEBHOOK_ALLOWED_HOSTS", "").split(",")
                    if host.strip()
                ),
                allow_private=env.get("PREDQ_WEBHOOK_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
            ),
        )
