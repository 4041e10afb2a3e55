"""A real predq server for the client: gunicorn (``predq api``) with API keys on,
and a real worker, against the session's Redis server and model store.

The client's tests have a stack of their own, on a database of its own, for
as long as this package's tests run: the integration tests' session stack is
not visible outside tests/integration.
"""
from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from api.auth import hash_key, new_key
from client import Client
from predq.embedded_redis import free_port
from tests.integration.conftest import Stack, _database
from worker.settings import Settings

CLIENT_DATABASE = 15


@pytest.fixture(scope="package")
def client_stack(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, repo_root: Path
) -> Iterator[Stack]:
    """One worker serving both queues, on the client tests' own database."""
    url = _database(settings.redis_url, CLIENT_DATABASE)
    redis.Redis.from_url(url).flushdb()
    own = dataclasses.replace(settings, redis_url=url, broker_url=url)
    stack = Stack(own, tmp_path_factory.mktemp("logs"), repo_root)
    try:
        stack.start_worker("tabular,vision")
        yield stack
    finally:
        stack.close()


@contextlib.contextmanager
def api_server(stack: Stack, **env: str) -> Iterator[str]:
    """``predq api`` on a free port with the stack's settings and ``env``; its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "predq", "api", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=stack.repo_root, env={**stack.env(), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and process.poll() is None, "the API did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="package")
def api_key() -> str:
    """The key the server accepts (as ``tester``)."""
    return new_key()


def keys_env(*keys: str) -> dict[str, str]:
    """The environment that makes the API require these keys."""
    accepted = ",".join(f"tester{i}:{hash_key(key)}" for i, key in enumerate(keys))
    return {"PREDQ_AUTH": "keys", "PREDQ_API_KEYS": accepted}


@pytest.fixture(scope="package")
def server_url(client_stack: Stack, api_key: str) -> Iterator[str]:
    """The URL of a server that requires ``api_key``."""
    with api_server(client_stack, **keys_env(api_key)) as url:
        yield url


@pytest.fixture
def predq(server_url: str, api_key: str) -> Iterator[Client]:
    """A client of the server, with the right key."""
    with Client(server_url, api_key=api_key) as client:
        yield client


@pytest.fixture(scope="session")
def digit_paths(repo_root: Path) -> list[Path]:
    """examples/digits/<label>.png, by label."""
    return sorted((repo_root / "examples" / "digits").glob("*.png"), key=lambda p: int(p.stem))
