"""Real processes: Celery workers started with ``predq worker`` against the test Redis.

A :class:`Stack` is one Redis database with its own queues, API and workers.
The session stack runs one worker per queue for the whole session; tests
that stop workers, or need a queue nobody consumes, get an isolated stack on
another database (Celery's queues and broadcasts are per database).
"""
from __future__ import annotations

import dataclasses
import io
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest
import redis
from celery import Celery
from kombu.exceptions import OperationalError
from flask.testing import FlaskClient
from PIL import Image

from api import create_app
from worker.celery_app import create_celery_app
from worker.settings import Settings

_DATABASES = itertools.count()


class Stack:
    """One Redis database, an API client on it, and worker processes."""

    def __init__(self, settings: Settings, logs: Path, repo_root: Path, **config: Any) -> None:
        self.settings = settings
        self.logs = logs
        self.repo_root = repo_root
        app_config = {"PREDQ_SETTINGS": settings, "PREDQ_AUTH": "none", **config}
        self.client: FlaskClient = create_app(app_config).test_client()
        self.celery: Celery = create_celery_app(settings)
        self.workers: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        """The environment a worker process of this stack runs with: its settings."""
        s = self.settings
        return {
            **os.environ,
            "PREDQ_REDIS_URL": s.redis_url,
            "PREDQ_MODEL_DIR": str(s.model_dir),
            "PREDQ_JOB_TTL": str(s.job_ttl),
            "PREDQ_VISIBILITY_TIMEOUT": str(s.visibility_timeout),
            "PREDQ_TASK_TIME_LIMIT": str(s.task_time_limit),
            "PREDQ_MAX_ATTEMPTS": str(s.max_attempts),
            "PREDQ_SOFT_SHUTDOWN_TIMEOUT": str(s.soft_shutdown_timeout),
            "PREDQ_SECRET_KEY": s.secret_key,
            "PREDQ_TORCH_THREADS": "1",
            "PREDQ_CACHE_TTL": str(self.settings.cache_ttl),
            "PREDQ_VISION_MAX_BATCH_SIZE": str(self.settings.vision_batch.max_batch_size),
            "PREDQ_VISION_MAX_DELAY_MS": str(self.settings.vision_batch.max_delay_ms),
            "PREDQ_WEBHOOK_SECRET": s.webhooks.secret,
            "PREDQ_WEBHOOK_MAX_ATTEMPTS": str(s.webhooks.max_attempts),
            "PREDQ_WEBHOOK_BACKOFF": str(s.webhooks.backoff),
            "PREDQ_WEBHOOK_BACKOFF_MAX": str(s.webhooks.backoff_max),
            "PREDQ_WEBHOOK_TIMEOUT": str(s.webhooks.timeout),
            "PREDQ_WEBHOOK_ALLOWED_HOSTS": ",".join(s.webhooks.allowed_hosts),
            "PREDQ_WEBHOOK_ALLOW_PRIVATE": "1" if s.webhooks.allow_private else "",
            "PREDQ_TABULAR_MAX_BATCH_SIZE": str(self.settings.tabular_batch.max_batch_size),
            "PREDQ_TABULAR_MAX_DELAY_MS": str(self.settings.tabular_batch.max_delay_ms),
        }

    def start_worker(self, queues: str, metrics_port: int = 0) -> subprocess.Popen[bytes]:
        """Start ``predq worker`` on ``queues`` (serving metrics on ``metrics_port``
        unless 0) and wait until it answers a ping."""
        name = f"{queues.replace(',', '-')}-{len(self.workers)}-{os.getpid()}@test"
        log = open(self.logs / f"{name}.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "predq", "worker", "--queues", queues,
             "--concurrency", "1", "--hostname", name, "--metrics-port", str(metrics_port)],
            cwd=self.repo_root, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a test can kill it whole
        )  # fmt: skip
        self.workers.append(process)
        deadline = time.monotonic() + 60
        while not self._answers(name):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start: {(self.logs / f'{name}.log').read_text()[-3000:]}")
        return process

    def _answers(self, name: str) -> bool:
        try:
            return bool(self.celery.control.ping(destination=[name], timeout=0.5, limit=1))
        except (OSError, redis.ConnectionError, OperationalError):
            return False  # a connection another test cut: ask again on a new one

    def stop_worker(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        """Stop a worker: SIGTERM is Celery's warm shutdown, SIGQUIT its cold (soft) one."""
        process.send_signal(sig)
        process.wait(timeout=60)

    def kill_worker(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL a worker's main process and its pool children at once."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def record(self, job_id: str) -> dict[str, str]:
        """The raw job record in Redis, as an operator would inspect it."""
        raw = redis.Redis.from_url(self.settings.redis_url).hgetall(f"predq:job:{job_id}")
        return {k.decode(): v.decode() for k, v in raw.items()}

    def wait_until(self, job_id: str, predicate: Callable[[dict[str, str]], bool], timeout: float = 60) -> dict[str, str]:
        """Poll a job's record until ``predicate`` holds (fault tests need to act mid-job)."""
        deadline = time.monotonic() + timeout
        while not predicate(record := self.record(job_id)):
            assert time.monotonic() < deadline, f"job {job_id} never got there: {record}"
            time.sleep(0.02)
        return record

    def close(self) -> None:
        """Stop every worker still running."""
        for process in self.workers:
            if process.poll() is None:
                self.stop_worker(process)

    def wait(self, job_id: str, timeout: float = 30) -> dict[str, Any]:
        """Long-poll a job until it is terminal."""
        response = self.client.get(f"/v1/jobs/{job_id}?wait={timeout}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()


def _database(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture(scope="session")
def stack(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, repo_root: Path
) -> Iterator[Stack]:
    """The session's stack: one tabular and one vision worker, always running."""
    running = Stack(settings, tmp_path_factory.mktemp("logs"), repo_root)
    redis.Redis.from_url(settings.redis_url).flushdb()
    try:
        running.start_worker("tabular")
        running.start_worker("vision")
        yield running
    finally:
        running.close()


@pytest.fixture
def stack_factory(
    settings: Settings, tmp_path: Path, repo_root: Path
) -> Iterator[Callable[..., Stack]]:
    """Makes stacks on fresh databases, with no worker until the test starts one.

    Keyword arguments override the session's settings (``model_dir=...``);
    ``redis_url`` puts the stack on another Redis server altogether.
    """
    made: list[Stack] = []

    def make(**overrides: Any) -> Stack:
        url = overrides.pop("redis_url", None) or _database(settings.redis_url, 1 + next(_DATABASES) % 15)
        redis.Redis.from_url(url).flushdb()
        isolated = dataclasses.replace(settings, redis_url=url, broker_url=url, **overrides)
        made.append(Stack(isolated, tmp_path, repo_root))
        return made[-1]

    try:
        yield make
    finally:
        for stack in made:
            stack.close()


@pytest.fixture
def isolated_stack(stack_factory: Callable[..., Stack]) -> Stack:
    """A stack on a fresh database with no worker until the test starts one."""
    return stack_factory()


@pytest.fixture(scope="session")
def slow_images() -> list[bytes]:
    """300 large, smooth PNGs: one chunk of them takes seconds to decode, so a
    test can act while the job is running."""
    ramp = np.linspace(0, 255, 1024, dtype=np.float32)
    plane = (ramp[None, :] * 0.5 + ramp[:, None] * 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.stack([plane, plane.T, 255 - plane], axis=-1)).save(buffer, format="PNG")
    return [buffer.getvalue()] * 300
