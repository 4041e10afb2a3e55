"""The container deployment: what an operator relies on in compose.yaml and the Dockerfile.

No Docker engine is needed: the files are parsed and checked as data. YAML merge
keys (``<<: *anchor``) are resolved by ``yaml.safe_load``, so each service is
checked as Compose will see it.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("api", "worker-tabular", "worker-training", "worker-vision", "worker-vision-cpu")
WORKERS = ("worker-tabular", "worker-training", "worker-webhooks", "worker-vision", "worker-vision-cpu")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def command_of(service: dict[str, Any]) -> list[str]:
    """A service's command as a list of arguments, whichever form it is written in."""
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def option(argv: list[str], name: str) -> str:
    """The value following ``name`` in an argument list."""
    return argv[argv.index(name) + 1]


def test_redis_persists_with_aof_and_never_evicts(services: dict[str, dict[str, Any]]) -> None:
    argv = command_of(services["redis"])
    assert option(argv, "--appendonly") == "yes"
    assert option(argv, "--maxmemory-policy") == "noeviction"


def test_redis_requires_a_password(services: dict[str, dict[str, Any]]) -> None:
    assert "PREDQ_REDIS_PASSWORD" in option(command_of(services["redis"]), "--requirepass")


def test_redis_is_not_published(services: dict[str, dict[str, Any]]) -> None:
    assert "ports" not in services["redis"]


def test_redis_keeps_its_data_in_a_named_volume(services: dict[str, dict[str, Any]]) -> None:
    assert "redis-data:/data" in services["redis"]["volumes"]


@pytest.mark.parametrize("name", ["api", "worker-tabular"])
def test_core_services_exist(services: dict[str, dict[str, Any]], name: str) -> None:
    assert name in services


def test_a_vision_worker_exists(services: dict[str, dict[str, Any]]) -> None:
    assert {"worker-vision", "worker-vision-cpu"} & services.keys()


def test_app_services_build_the_one_image(services: dict[str, dict[str, Any]]) -> None:
    builds = {str(services[name]["build"]) for name in APP_SERVICES + ("train",)}
    assert builds == {"."}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_can_scale(services: dict[str, dict[str, Any]], name: str) -> None:
    assert "container_name" not in services[name]


@pytest.mark.parametrize("name", WORKERS)
def test_workers_publish_no_ports(services: dict[str, dict[str, Any]], name: str) -> None:
    assert "ports" not in services[name]


def test_gpu_worker_reserves_an_nvidia_gpu(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker-vision"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    assert worker["profiles"] == ["gpu"]
    assert option(command_of(worker), "--device") == "cuda"


def test_cpu_vision_worker_is_the_cpu_profile(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker-vision-cpu"]
    assert worker["profiles"] == ["cpu"]
    assert option(command_of(worker), "--device") == "cpu"
    assert "deploy" not in worker


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_reach_redis_with_a_password(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    url = services[name]["environment"]["PREDQ_REDIS_URL"]
    assert re.fullmatch(r"redis://:\$\{PREDQ_REDIS_PASSWORD\}@redis:6379/\d+", url)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_redis_and_models(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    depends = services[name]["depends_on"]
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["train"]["condition"] == "service_completed_successfully"


def test_train_runs_once_and_writes_the_store(services: dict[str, dict[str, Any]]) -> None:
    train = services["train"]
    assert command_of(train)[:2] == ["predq", "train"]
    assert train["restart"] == "no"
    assert "models:/models" in train["volumes"]


def test_dockerfile_runs_as_non_root() -> None:
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}


def test_the_stack_requires_keys_and_a_secret_and_limits_rates(
    services: dict[str, dict[str, Any]],
) -> None:
    env = services["api"]["environment"]
    assert env["PREDQ_AUTH"] == "keys"
    assert ":?" in env["PREDQ_API_KEYS"] and ":?" in env["PREDQ_SECRET_KEY"]
    assert env["PREDQ_RATE_LIMIT"]


def test_workers_stop_with_a_soft_shutdown_inside_their_grace_period(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in WORKERS:
        service = services[name]
        assert service["environment"]["REMAP_SIGTERM"] == "SIGQUIT"
        assert service["stop_grace_period"] == "35s"  # > PREDQ_SOFT_SHUTDOWN_TIMEOUT (25 s)


def test_flower_is_optional_and_password_protected(services: dict[str, dict[str, Any]]) -> None:
    flower = services["flower"]
    assert flower["profiles"] == ["flower"]
    argv = command_of(flower)
    assert "flower" in argv and any(a.startswith("--basic-auth=") for a in argv)
    assert any(a.startswith("--broker=redis://:") and "@redis:6379" in a for a in argv)


@pytest.mark.parametrize("name", WORKERS)
def test_workers_serve_metrics_inside_the_network_only(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    port = services[name]["environment"]["PREDQ_METRICS_PORT"]
    assert services[name]["expose"] == [port]
    assert "ports" not in services[name]


def test_the_example_scrape_config_targets_the_compose_services(
    services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load((ROOT / "examples/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["predq-api"]["static_configs"][0]["targets"] == ["api:8000"]
    (workers,) = jobs["predq-workers"]["dns_sd_configs"]
    assert set(workers["names"]) == set(WORKERS)
    assert {str(workers["port"])} == {services[n]["environment"]["PREDQ_METRICS_PORT"] for n in WORKERS}


def test_only_the_training_worker_writes_to_the_model_store(services: dict[str, dict[str, Any]]) -> None:
    trainer = services["worker-training"]
    assert option(command_of(trainer), "--queues") == "training"
    assert "models:/models" in trainer["volumes"]
    for name in APP_SERVICES:
        if name != "worker-training":
            assert services[name]["volumes"] == ["models:/models:ro"], name
