"""Redis failures: cut connections, kill -9 with and without persistence."""
from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from predq.embedded_redis import EmbeddedRedis
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration
SETOSA = {"instances": [[5.1, 3.5, 1.4, 0.2]]}


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Callable[[bool], EmbeddedRedis]]:
    """Starts a redis-server of the test's own, which the test may kill."""
    started: list[EmbeddedRedis] = []

    def start(persistent: bool) -> EmbeddedRedis:
        port = started[-1].port if started else 0
        started.append(EmbeddedRedis(tmp_path / "redis", port=port, persistent=persistent).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


def kill_9(server: EmbeddedRedis) -> None:
    assert server.process is not None
    server.process.kill()
    server.process.wait()


def submit(stack: Stack, n: int) -> list[str]:
    responses = [stack.client.post("/predict", json=SETOSA) for _ in range(n)]
    assert [r.status_code for r in responses] == [202] * n
    return [r.get_json()["id"] for r in responses]


def test_cut_connections_are_survived_by_api_and_workers(
    own_redis: Callable[[bool], EmbeddedRedis], stack_factory: Callable[..., Stack]
) -> None:
    stack = stack_factory(redis_url=own_redis(False).url)  # its own server: the kill hits no other test
    stack.start_worker("tabular")
    before = submit(stack, 3)
    assert {stack.wait(j)["status"] for j in before} == {"succeeded"}
    admin = redis.Redis.from_url(stack.settings.redis_url)
    assert admin.client_kill_filter(_type="normal", skipme=True) > 0
    after = submit(stack, 3)
    assert {stack.wait(j)["status"] for j in after} == {"succeeded"}


def test_queued_jobs_survive_kill_9_of_a_persistent_redis(
    own_redis: Callable[[bool], EmbeddedRedis], stack_factory: Callable[..., Stack]
) -> None:
    server = own_redis(True)
    stack = stack_factory(redis_url=server.url)
    queued = submit(stack, 10)
    time.sleep(1.5)  # appendfsync everysec: what is a second old is on disk
    kill_9(server)
    down = stack.client.get(f"/v1/jobs/{queued[0]}")
    assert down.status_code == 503 and down.get_json()["error"]["code"] == "broker_unavailable"

    own_redis(True)  # same port, same data directory
    stack.start_worker("tabular")
    finished = [stack.wait(job_id) for job_id in queued]
    assert [job["status"] for job in finished] == ["succeeded"] * 10


def test_without_persistence_lost_jobs_are_reported_lost_and_the_api_recovers(
    own_redis: Callable[[bool], EmbeddedRedis], stack_factory: Callable[..., Stack]
) -> None:
    server = own_redis(False)
    stack = stack_factory(redis_url=server.url)
    queued = submit(stack, 2)
    kill_9(server)
    assert stack.client.post("/predict", json=SETOSA).status_code == 503
    assert stack.client.get(f"/v1/jobs/{queued[0]}").status_code == 503

    own_redis(False)  # back, empty
    lost = stack.client.get(f"/v1/jobs/{queued[0]}")
    assert lost.status_code == 200
    job = lost.get_json()
    assert job["status"] == "failed" and job["error"]["code"] == "lost"
    assert stack.client.get("/v1/jobs/never-issued").status_code == 404
    stack.start_worker("tabular")
    assert stack.wait(submit(stack, 1)[0])["status"] == "succeeded"


def test_a_full_redis_refuses_new_jobs_with_503_and_keeps_the_queued_ones(
    own_redis: Callable[[bool], EmbeddedRedis], stack_factory: Callable[..., Stack],
    digit_pngs: list[tuple[bytes, int]],
) -> None:  # fmt: skip
    server = own_redis(True)
    stack = stack_factory(redis_url=server.url)
    queued = submit(stack, 3)
    admin = redis.Redis.from_url(server.url)
    admin.config_set("maxmemory", admin.info("memory")["used_memory"] + 200_000)
    codes = set()
    for _ in range(20):
        upload = [(io.BytesIO(digit_pngs[0][0] * 50), f"{i}.png") for i in range(40)]
        response = stack.client.post("/classify", data={"image": upload})
        codes.add(response.status_code)
        assert b"PNG" not in response.data  # Redis's error text (quoting the upload) stays inside
    assert 503 in codes and codes <= {202, 503}

    admin.config_set("maxmemory", 0)
    stack.start_worker("tabular")
    assert [stack.wait(job_id)["status"] for job_id in queued] == ["succeeded"] * 3
