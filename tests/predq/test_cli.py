"""The predq command and its embedded Redis."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import redis

from models import ModelStore
from predq.cli import main
from predq.embedded_redis import EmbeddedRedis


def test_train_and_list_models(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PREDQ_MODEL_DIR", str(tmp_path))
    assert main(["train", "--models", "iris-tree", "diabetes-linreg"]) == 0
    assert "trained iris-tree@1" in capsys.readouterr().out
    assert main(["train", "--if-empty"]) == 0
    assert "already has models" in capsys.readouterr().out
    assert ModelStore(tmp_path).names() == ["diabetes-linreg", "iris-tree"]
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "iris-tree@1" in listing and "regression" in listing


@pytest.mark.parametrize(
    ("queues", "message"),
    # Webhook deliveries wait on receivers: they never share a prediction worker.
    [("gpu", "unknown queue"), ("tabular,webhooks", "worker of its own")],
)
def test_bad_queues_are_refused(repo_root: Path, queues: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "predq", "worker", "--queues", queues],
        cwd=repo_root, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0 and message in result.stderr


def test_embedded_redis_keeps_data_across_a_restart(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        redis.Redis.from_url(server.url).rpush("tabular", b"queued job")
        port = server.port
    with EmbeddedRedis(tmp_path, port=port) as server:
        assert redis.Redis.from_url(server.url).lrange("tabular", 0, -1) == [b"queued job"]


def test_webhook_secret_prints_an_owners_secret(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PREDQ_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert main(["webhook-secret", "alice"]) == 0
    alice = capsys.readouterr().out.strip()
    assert main(["webhook-secret", "bob"]) == 0
    assert alice.startswith("whsec_") and alice != capsys.readouterr().out.strip()
