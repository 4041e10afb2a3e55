"""Claiming pending chunks from real Redis: same model only, within the limits."""
from __future__ import annotations

import pytest
import redis

from worker.batching import ChunkRef, PendingChunks
from worker.settings import BatchLimits


LISTING = BatchLimits(max_batch_size=8, max_delay_ms=0)


@pytest.fixture
def pending(redis_client: redis.Redis) -> PendingChunks:
    redis_client.flushdb()
    return PendingChunks(redis_client, ttl=60)


def test_claim_takes_oldest_chunks_of_the_same_model_up_to_the_size_limit(
    pending: PendingChunks, redis_client: redis.Redis
) -> None:
    own = ChunkRef("own", 0, 0, 2)
    pending.add("m@1", [own], LISTING)
    pending.add("m@1", [ChunkRef("a", 0, 0, 3), ChunkRef("a", 1, 3, 4)], LISTING)
    pending.add("m@1", [ChunkRef("b", 0, 0, 4)], LISTING)
    pending.add("other@1", [ChunkRef("c", 0, 0, 1)], LISTING)
    pending.discard("m@1", own)

    batch = pending.claim("m@1", own, BatchLimits(max_batch_size=7, max_delay_ms=0))
    assert batch == [own, ChunkRef("a", 0, 0, 3), ChunkRef("a", 1, 3, 4)]
    # The chunk that did not fit waits for the next batch; other models are untouched.
    assert pending.claim("m@1", ChunkRef("x", 0, 0, 1), BatchLimits(8, 0))[1:] == [
        ChunkRef("b", 0, 0, 4)
    ]
    assert redis_client.zcard("predq:pending:other@1") == 1


def test_claim_waits_at_most_the_delay_and_not_when_batching_is_off(
    pending: PendingChunks, redis_client: redis.Redis
) -> None:
    own = ChunkRef("own", 0, 0, 1)
    assert pending.claim("m@1", own, BatchLimits(max_batch_size=4, max_delay_ms=20)) == [own]
    pending.add("m@1", [ChunkRef("a", 0, 0, 1)], LISTING)
    assert pending.claim("m@1", own, BatchLimits(max_batch_size=1, max_delay_ms=20)) == [own]
    assert redis_client.zcard("predq:pending:m@1") == 1


def test_chunks_no_batch_could_take_are_not_listed(
    pending: PendingChunks, redis_client: redis.Redis
) -> None:
    pending.add("m@1", [ChunkRef("full", 0, 0, 8), ChunkRef("full", 1, 8, 10)], LISTING)
    pending.add("m@1", [ChunkRef("off", 0, 0, 1)], BatchLimits(max_batch_size=1))
    assert redis_client.zrange("predq:pending:m@1", 0, -1) == [
        ChunkRef("full", 1, 8, 10).member().encode()
    ]
