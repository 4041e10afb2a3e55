"""Starting the systems under test as real processes, each with its own Redis."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from api.auth import hash_key, new_key
from bench.memory import cpu_seconds_tree
from predq.embedded_redis import EmbeddedRedis, free_port

# Made afresh for each run: the benchmark's own client key, never stored.
BENCH_KEY = new_key()
PREDQ_AUTHORIZATION = {"Authorization": f"Bearer {BENCH_KEY}"}


class System:
    """One system under test: a Redis, an HTTP server and (maybe) workers."""

    def __init__(self, name: str, workdir: Path, model_dir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.redis = EmbeddedRedis(self.workdir / "redis", persistent=False)
        self.port = free_port()
        self.env = {
            **os.environ,
            "PREDQ_MODEL_DIR": str(model_dir),
            "PREDQ_REDIS_URL": self.redis.url,
            "BASELINE_REDIS_URL": self.redis.url,
            **env,
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        """Base URL of the system's HTTP server."""
        return f"http://127.0.0.1:{self.port}"

    def spawn(self, role: str, *argv: str) -> None:
        """Start one process of the system, logging to ``<role>.log``."""
        log = open(self.workdir / f"{role}.log", "wb")
        self.processes[role] = subprocess.Popen(
            [sys.executable, *argv], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, probe: str, timeout: float = 120) -> None:
        """Wait until ``GET probe`` answers 200 (and no process died)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for role, process in self.processes.items():
                if process.poll() is not None:
                    log = (self.workdir / f"{role}.log").read_text()[-2000:]
                    raise RuntimeError(f"{self.name} {role} exited:\n{log}")
            try:
                if requests.get(self.url + probe, timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet, or still starting its workers
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} was not ready in {timeout} s")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each role's processes, and by Redis."""
        used = {role: cpu_seconds_tree(p.pid) for role, p in self.processes.items()}
        if self.redis.process is not None:
            used["redis"] = cpu_seconds_tree(self.redis.process.pid)
        return used

    def stop(self) -> None:
        """Stop every process (SIGTERM to its process group), then Redis."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.redis.stop()


    def start(self, probe: str, *commands: tuple[str, ...]) -> System:
        """Start Redis and ``(role, *argv)`` processes; stop them all if one fails."""
        try:
            self.redis.start()
            for role, *argv in commands:
                self.spawn(role, *argv)
            self.wait_ready(probe)
        except BaseException:
            self.stop()
            raise
        return self


def _gunicorn(app: str, port: int, workers: int, threads: int) -> tuple[str, ...]:
    return (
        "web", "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--worker-class", "gthread", "--threads", str(threads), app,
    )  # fmt: skip


def start_predq(workdir: Path, model_dir: Path, name: str = "predq", **env: str) -> System:
    """predq as deployed: the API under gunicorn with an API key required, one
    tabular and one vision worker. Clients send ``PREDQ_AUTHORIZATION``."""
    keys = {"PREDQ_AUTH": "keys", "PREDQ_API_KEYS": f"bench:{hash_key(BENCH_KEY)}"}
    system = System(name, workdir, model_dir, {**keys, **env})
    return system.start(
        "/readyz",
        ("worker-tabular", "-m", "predq", "worker", "--queues", "tabular"),
        ("worker-vision", "-m", "predq", "worker", "--queues", "vision"),
        ("web", "-m", "predq", "api", "--bind", f"127.0.0.1:{system.port}"),
    )


def start_sync(workdir: Path, model_dir: Path) -> System:
    """Baseline 1: the synchronous Flask app, two gunicorn processes."""
    system = System("sync-flask", workdir, model_dir, {})
    return system.start("/health", _gunicorn("bench.baseline_sync:create_app()", system.port, 2, 4))


def start_celery_baseline(workdir: Path, model_dir: Path) -> System:
    """Baseline 2: Flask enqueueing one Celery task per request, waiting on its result."""
    system = System("flask-celery", workdir, model_dir, {})
    worker = (
        "worker", "-m", "celery", "-A", "bench.baseline_celery:celery", "worker",
        "--concurrency", str(os.cpu_count() or 1), "--loglevel", "WARNING",
    )  # fmt: skip
    web = _gunicorn("bench.baseline_celery:create_app()", system.port, 2, 16)
    return system.start("/ready", worker, web)
