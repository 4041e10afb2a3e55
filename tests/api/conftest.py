"""An API with real keys and limits, on a Redis database no worker consumes."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from api import create_app
from api.auth import hash_key
from worker.settings import Settings

KEYS = {"alice": "pq_alice_secret_key", "bob": "pq_bob_secret_key"}


@pytest.fixture
def keyed_client(settings: Settings) -> Callable[..., FlaskClient]:
    """Makes clients of an app with API keys for alice and bob.

    Keyword arguments override Settings fields where they name one, else app config.
    """
    url = settings.redis_url.rsplit("/", 1)[0] + "/14"
    redis.Redis.from_url(url).flushdb()
    quiet = dataclasses.replace(settings, redis_url=url, broker_url=url)

    def make(**overrides: Any) -> FlaskClient:
        fields = {f.name for f in dataclasses.fields(Settings)}
        tuned = dataclasses.replace(quiet, **{k: v for k, v in overrides.items() if k in fields})
        config = {k: v for k, v in overrides.items() if k not in fields}
        keys = ",".join(f"{name}:{hash_key(key)}" for name, key in KEYS.items())
        return create_app(
            {"PREDQ_SETTINGS": tuned, "PREDQ_AUTH": "keys", "PREDQ_API_KEYS": keys, **config}
        ).test_client()

    return make


@pytest.fixture
def bearer() -> Callable[[str], dict[str, str]]:
    """The Authorization header of a test key by owner name."""
    return lambda name: {"Authorization": f"Bearer {KEYS[name]}"}
