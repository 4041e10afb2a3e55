"""Real processes: Celery workers started with ``predq worker`` against the test Redis.

A :class:`Stack` is one Redis database with its own queues, API and workers.
The session stack runs one worker per queue for the whole session; tests
that stop workers, or need a queue nobody consumes, get an isolated stack on
another database (Celery's queues and broadcasts are per database).
"""
from __future__ import annotations

import dataclasses
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

import pytest
import redis
from celery import Celery
from flask.testing import FlaskClient

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
        self.client: FlaskClient = create_app({"PREDQ_SETTINGS": settings, **config}).test_client()
        self.celery: Celery = create_celery_app(settings)
        self.workers: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        """The environment a worker process of this stack runs with."""
        return {
            **os.environ,
            "PREDQ_REDIS_URL": self.settings.redis_url,
            "PREDQ_MODEL_DIR": str(self.settings.model_dir),
            "PREDQ_TORCH_THREADS": "1",
            "PREDQ_CACHE_TTL": str(self.settings.cache_ttl),
            "PREDQ_VISION_MAX_BATCH_SIZE": str(self.settings.vision_batch.max_batch_size),
            "PREDQ_VISION_MAX_DELAY_MS": str(self.settings.vision_batch.max_delay_ms),
        }

    def start_worker(self, queues: str) -> subprocess.Popen[bytes]:
        """Start ``predq worker`` on ``queues`` and wait until it answers a ping."""
        name = f"{queues.replace(',', '-')}-{len(self.workers)}-{os.getpid()}@test"
        log = open(self.logs / f"{name}.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "predq", "worker", "--queues", queues,
             "--concurrency", "1", "--hostname", name],
            cwd=self.repo_root, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.workers.append(process)
        deadline = time.monotonic() + 60
        while not self.celery.control.ping(destination=[name], timeout=0.5, limit=1):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start: {(self.logs / f'{name}.log').read_text()[-3000:]}")
        return process

    def stop_worker(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        """Stop a worker: SIGTERM is Celery's warm shutdown."""
        process.send_signal(sig)
        process.wait(timeout=60)

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

    Keyword arguments override the session's settings (``model_dir=...``).
    """
    made: list[Stack] = []

    def make(**overrides: Any) -> Stack:
        url = _database(settings.redis_url, 1 + next(_DATABASES) % 15)
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
