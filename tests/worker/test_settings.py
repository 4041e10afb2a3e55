"""Settings come from PREDQ_* variables and refuse unsafe combinations."""
from __future__ import annotations

from pathlib import Path

import pytest

from worker.config import celery_config
from worker.settings import BatchLimits, Settings


def test_one_redis_url_sets_broker_and_job_store() -> None:
    settings = Settings.from_env({"PREDQ_REDIS_URL": "redis://r:6379/2", "PREDQ_MODEL_DIR": "/m"})
    assert settings.redis_url == settings.broker_url == "redis://r:6379/2"
    assert settings.model_dir == Path("/m")


def test_broker_and_result_backend_can_be_split() -> None:
    settings = Settings.from_env(
        {"PREDQ_BROKER_URL": "amqp://guest@rabbit//", "PREDQ_RESULT_BACKEND": "redis://r/1"}
    )
    assert (settings.broker_url, settings.redis_url) == ("amqp://guest@rabbit//", "redis://r/1")


def test_time_limit_must_stay_below_the_visibility_timeout() -> None:
    with pytest.raises(ValueError, match="below"):
        Settings.from_env({"PREDQ_TASK_TIME_LIMIT": "3600", "PREDQ_VISIBILITY_TIMEOUT": "3600"})


def test_celery_runs_json_only_and_at_least_once() -> None:
    config = celery_config(Settings(visibility_timeout=100, task_time_limit=50))
    assert config["accept_content"] == ["json"] and config["task_serializer"] == "json"
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1
    assert config["task_soft_time_limit"] < config["task_time_limit"] < 100
    assert config["broker_transport_options"]["visibility_timeout"] == 100


def test_vision_batching_limits_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"PREDQ_VISION_MAX_BATCH_SIZE": "16", "PREDQ_VISION_MAX_DELAY_MS": "2.5"}
    )
    assert (settings.vision_batch.max_batch_size, settings.vision_batch.max_delay_ms) == (16, 2.5)
    assert not Settings.from_env({"PREDQ_VISION_MAX_BATCH_SIZE": "1"}).vision_batch.enabled


def test_worker_metrics_are_off_unless_a_port_is_set() -> None:
    assert Settings.from_env({}).metrics_port is None
    assert Settings.from_env({"PREDQ_METRICS_PORT": "9100"}).metrics_port == 9100


def test_each_queue_has_its_own_batching_limits() -> None:
    settings = Settings.from_env(
        {"PREDQ_TABULAR_MAX_BATCH_SIZE": "512", "PREDQ_TABULAR_MAX_DELAY_MS": "0.5"}
    )
    assert settings.batch_limits("tabular") == BatchLimits(512, 0.5)
    assert settings.batch_limits("vision") == Settings().vision_batch
    assert Settings.from_env({"PREDQ_DECODE_THREADS": "3"}).serving.decode_threads == 3
