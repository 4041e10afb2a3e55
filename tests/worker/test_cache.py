"""Cache keys: the same input spelled differently is one key; another input is not."""
from __future__ import annotations

import redis

from models.validation import validate_instances
from models.store import ModelStore
from worker.cache import ResultCache, images_digest, rows_digest
from worker.documents import JobStatus
from worker.jobs import JobStore


def test_rows_digest_is_of_the_validated_numbers(model_store: ModelStore) -> None:
    manifest = model_store.get("iris-tree")
    as_ints = validate_instances(manifest, [[5, 3, 1, 0]], 10)
    as_floats = validate_instances(manifest, [[5.0, 3.0, 1.0, 0.0]], 10)
    assert rows_digest(as_ints) == rows_digest(as_floats)
    assert rows_digest(as_ints) != rows_digest([[5.0, 3.0, 1.0, 0.1]])


def test_images_digest_keeps_image_boundaries_and_order() -> None:
    assert images_digest([b"ab", b"c"]) != images_digest([b"a", b"bc"])
    assert images_digest([b"a", b"b"]) != images_digest([b"b", b"a"])
    assert images_digest([b"a", b"b"]) == images_digest([b"a", b"b"])


def test_a_succeeding_job_fills_its_noted_key_until_the_ttl(redis_client: redis.Redis) -> None:
    cache, jobs = ResultCache(redis_client, ttl=7), JobStore(redis_client, ttl=60)
    key = cache.key("alice", "iris-tree@1", rows_digest([[1.0, 2.0, 3.0, 4.0]]))
    job_id = jobs.ids.new("alice")
    jobs.create(job_id, "alice", "iris-tree@1", total=3)
    cache.remember(job_id, key)
    jobs.complete_chunk(job_id, 1, 1, [{"label": 1}, {"label": 2}])
    assert cache.lookup("iris-tree@1", key) is None  # not yet succeeded
    assert jobs.complete_chunk(job_id, 0, 0, [{"label": 0}]) is JobStatus.SUCCEEDED
    assert cache.lookup("iris-tree@1", key) == [{"label": 0}, {"label": 1}, {"label": 2}]
    assert 0 < redis_client.ttl(key) <= 7
