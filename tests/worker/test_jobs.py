"""Job records on a real Redis: states, counting, cancelling, waiting, expiry."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

from worker.errors import JobFinished, JobNotFound
from worker.documents import JobStatus
from worker.jobs import JobStore

OK = {"label": 1, "class_name": "1", "probabilities": {"0": 0.0, "1": 1.0}}
BAD = {"error": {"code": "invalid_image", "message": "corrupt"}}


@pytest.fixture
def jobs(redis_client: redis.Redis) -> JobStore:
    return JobStore(redis_client, ttl=600)


def new_job(jobs: JobStore, total: int, inputs: list[bytes] | None = None) -> str:
    job_id = jobs.ids.new("alice")
    jobs.create(job_id, "alice", "m@1", total=total, inputs=inputs or [])
    return job_id


def test_new_job_is_queued_with_an_unguessable_id(jobs: JobStore) -> None:
    job_id = new_job(jobs, 2)
    assert len(job_id) == 43  # 16 random bytes, the time and a MAC, base64url
    doc = jobs.get(job_id)
    assert doc["status"] == "queued" and doc["model"] == "m@1"
    assert doc["progress"] == {"done": 0, "total": 2}
    assert doc["result"] is None and doc["error"] is None and doc["started_at"] is None


def test_chunks_finish_the_job_in_item_order_and_count_once(jobs: JobStore) -> None:
    job_id = new_job(jobs, 4)
    assert jobs.start(job_id, 0, "w/1", max_attempts=3)
    assert jobs.complete_chunk(job_id, 1, 2, [OK, BAD]) is JobStatus.RUNNING
    assert jobs.complete_chunk(job_id, 1, 2, [OK, BAD]) is JobStatus.RUNNING  # redelivered
    assert jobs.get(job_id)["progress"] == {"done": 2, "total": 4}
    assert jobs.complete_chunk(job_id, 0, 0, [OK, OK]) is JobStatus.SUCCEEDED
    doc = jobs.get(job_id)
    assert doc["result"] == [OK, OK, OK, BAD]
    assert doc["progress"] == {"done": 4, "total": 4} and doc["finished_at"]


def test_a_job_whose_every_item_failed_is_failed(jobs: JobStore) -> None:
    job_id = new_job(jobs, 1)
    assert jobs.complete_chunk(job_id, 0, 0, [BAD]) is JobStatus.FAILED
    assert jobs.get(job_id)["error"]["code"] == "all_items_failed"


def test_cancel_is_final(jobs: JobStore) -> None:
    job_id = new_job(jobs, 2, [b"a", b"b"])
    jobs.cancel(job_id, "alice")
    assert not jobs.start(job_id, 0, "w/1", max_attempts=3)  # a worker skips it
    assert jobs.complete_chunk(job_id, 0, 0, [OK, OK]) is JobStatus.CANCELLED
    doc = jobs.get(job_id)
    assert doc["status"] == "cancelled" and doc["result"] is None
    assert jobs.inputs(job_id, 0, 2) == [None, None]  # uploads freed
    with pytest.raises(JobFinished):
        jobs.cancel(job_id, "alice")
    with pytest.raises(JobNotFound):
        jobs.cancel("missing", "alice")


def test_failure_keeps_its_error(jobs: JobStore) -> None:
    job_id = new_job(jobs, 1)
    jobs.fail(job_id, "integrity_error", "artifact changed")
    doc = jobs.get(job_id)
    assert doc["status"] == "failed"
    assert doc["error"] == {"code": "integrity_error", "message": "artifact changed"}


def test_wait_returns_when_another_process_finishes_the_job(jobs: JobStore) -> None:
    job_id = new_job(jobs, 1)
    finisher = threading.Timer(0.3, jobs.complete_chunk, (job_id, 0, 0, [OK]))
    finisher.start()
    doc = jobs.wait(job_id, timeout=30)
    finisher.join()
    assert doc["status"] == "succeeded" and doc["result"] == [OK]


def test_concurrent_waits_share_one_redis_connection_and_each_wakes(
    jobs: JobStore, redis_client: redis.Redis
) -> None:
    def subscribers() -> int:
        return sum(1 for c in redis_client.client_list() if int(c["psub"]) or int(c["sub"]))

    before = subscribers()  # other tests' stores keep their listeners
    job_ids = [new_job(jobs, 1) for _ in range(8)]
    docs: dict[str, dict] = {}
    waiters = [
        threading.Thread(target=lambda j=j: docs.update({j: jobs.wait(j, timeout=30)}))
        for j in job_ids
    ]
    for waiter in waiters:
        waiter.start()
    started = time.monotonic()
    while sum(1 for w in jobs.events._waiters.values() for _ in w) < len(job_ids):
        assert time.monotonic() - started < 10, "the waiters never registered"
        time.sleep(0.01)
    assert subscribers() == before + 1  # one listener for every waiter of this store
    for job_id in job_ids:
        jobs.complete_chunk(job_id, 0, 0, [OK])
    for waiter in waiters:
        waiter.join(timeout=10)
    assert {j: d["status"] for j, d in docs.items()} == dict.fromkeys(job_ids, "succeeded")


def test_wait_gives_up_after_its_timeout_with_the_live_document(jobs: JobStore) -> None:
    job_id = new_job(jobs, 1)
    assert jobs.wait(job_id, timeout=0.2)["status"] == "queued"
    with pytest.raises(JobNotFound):
        jobs.wait("missing", timeout=0.2)


def test_every_key_of_a_job_expires(jobs: JobStore, redis_client: redis.Redis) -> None:
    job_id = new_job(jobs, 2, [b"a", b"b"])
    jobs.complete_chunk(job_id, 0, 0, [OK])
    keys = redis_client.keys(f"predq:job:{job_id}*")
    assert len(keys) == 4  # record, inputs, results, finished chunks
    assert all(0 < redis_client.ttl(key) <= 600 for key in keys)


def test_every_way_a_job_ends_is_counted_once_by_status_and_code(jobs: JobStore) -> None:
    model = f"counted-{uuid.uuid4().hex[:8]}@1"  # counters outlive jobs: a name of its own

    def job() -> str:
        job_id = jobs.ids.new("alice")
        jobs.create(job_id, "alice", model, total=1)
        return job_id

    done, poisoned, broken, cancelled = job(), job(), job(), job()
    for _ in range(2):  # a redelivered chunk, a late cancel: still once
        jobs.complete_chunk(done, 0, 0, [OK])
    assert jobs.start(poisoned, 0, "w/1", max_attempts=1)
    assert not jobs.start(poisoned, 0, "w/2", max_attempts=1)  # too many attempts
    jobs.fail(broken, "internal_error", "a bug")
    jobs.fail(broken, "timeout", "too late")
    jobs.cancel(cancelled, "alice")
    with pytest.raises(JobFinished):
        jobs.cancel(done, "alice")
    jobs.create_cached(jobs.ids.new("alice"), "alice", model, [OK])
    counts = {k: v for k, v in jobs.finished_counts().items() if k[0] == model}
    assert counts == {
        (model, "succeeded", ""): 2,
        (model, "failed", "too_many_attempts"): 1,
        (model, "failed", "internal_error"): 1,
        (model, "cancelled", ""): 1,
    }
