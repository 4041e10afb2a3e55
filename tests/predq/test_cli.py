"""The predq command and its embedded Redis."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_unknown_queue_is_refused(repo_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "predq", "worker", "--queues", "gpu"],
        cwd=repo_root, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0 and "unknown queue" in result.stderr


def test_embedded_redis_keeps_data_across_a_restart(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path) as server:
        redis.Redis.from_url(server.url).rpush("tabular", b"queued job")
        port = server.port
    with EmbeddedRedis(tmp_path, port=port) as server:
        assert redis.Redis.from_url(server.url).lrange("tabular", 0, -1) == [b"queued job"]
