"""``predq run``: the whole stack in one command, for a laptop or a demo."""
from __future__ import annotations

import argparse
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

from models.store import ModelStore
from predq.embedded_redis import EmbeddedRedis
from worker.settings import TABULAR_QUEUE, TRAINING_QUEUE, VISION_QUEUE, WEBHOOK_QUEUE, Settings


def _predq(*args: str) -> list[str]:
    return [sys.executable, "-m", "predq", *args]


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    # SIGTERM is Celery's warm shutdown: running tasks finish, unacked ones go back.
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # stop on SIGTERM (docker stop, systemd) as on Ctrl-C


def run_stack(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    """Train if the store is empty, start Redis if none is configured, then a
    worker per queue and the API; stop them all on Ctrl-C or SIGTERM."""
    store = ModelStore(settings.model_dir)
    if store.is_empty():
        print(f"model store {store.root} is empty: training the default models")
        from models.training import train_defaults

        for manifest in train_defaults(store):
            print(f"  trained {manifest.ref}")
    child_env = {"PREDQ_AUTH": "none", "PREDQ_SECRET_KEY": secrets.token_hex(32), **env}
    if child_env["PREDQ_AUTH"] == "none":
        print("authentication is off (PREDQ_AUTH=none): for local development only")
    redis_server = None
    if not {"PREDQ_REDIS_URL", "PREDQ_BROKER_URL"} & set(env):
        redis_server = EmbeddedRedis(args.data_dir / "redis").start()
        child_env["PREDQ_REDIS_URL"] = redis_server.url
        print(f"embedded redis at {redis_server.url} (data in {args.data_dir / 'redis'})")
    # Two workers on one machine: PREDQ_METRICS_PORT and the port after it.
    port = settings.metrics_port or 0
    commands = [
        # Training shares the tabular worker so it works out of the box; a fit
        # then holds one of its pool processes (compose runs a separate worker).
        *(
            _predq("worker", "--queues", queues, "--metrics-port", str(port and port + i))
            for i, queues in enumerate((f"{TABULAR_QUEUE},{TRAINING_QUEUE}", VISION_QUEUE))
        ),
        _predq("worker", "--queues", WEBHOOK_QUEUE, "--metrics-port", "0"),
        _predq("api", "--bind", args.bind),
    ]
    processes = [subprocess.Popen(command, env=child_env) for command in commands]
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"predq is starting on http://{args.bind}; Ctrl-C stops it")
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("a predq process exited; stopping the others", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        status = 0
    finally:
        _stop(processes)
        if redis_server:
            redis_server.stop()
    return status
