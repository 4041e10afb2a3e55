"""Which workers are alive, per queue: a heartbeat each worker writes to Redis.

Cheap to read at every metrics scrape (one ZCOUNT per queue), unlike asking
the workers over the broker (a broadcast that waits out a timeout). A worker
that stops cleanly leaves at once; one that dies drops out after
``STALE_AFTER_S`` without a beat.
"""
from __future__ import annotations

import time
from collections.abc import Iterable

import redis

from worker.jobs import redis_errors

BEAT_EVERY_S = 5.0
STALE_AFTER_S = 3 * BEAT_EVERY_S


def _key(queue: str) -> str:
    return f"predq:workers:{queue}"


class WorkerPresence:
    """Per-queue sorted sets of worker names scored by their last heartbeat."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def beat(self, worker: str, queues: Iterable[str]) -> None:
        """Mark ``worker`` alive on ``queues`` now, and forget long-silent workers."""
        now = time.time()
        with redis_errors():
            pipe = self.redis.pipeline()
            for queue in queues:
                pipe.zadd(_key(queue), {worker: now})
                pipe.zremrangebyscore(_key(queue), "-inf", now - 10 * STALE_AFTER_S)
            pipe.execute()

    def leave(self, worker: str, queues: Iterable[str]) -> None:
        """Take ``worker`` off ``queues`` (it is shutting down)."""
        with redis_errors():
            pipe = self.redis.pipeline()
            for queue in queues:
                pipe.zrem(_key(queue), worker)
            pipe.execute()

    def count(self, queues: Iterable[str]) -> dict[str, int]:
        """Workers that beat within ``STALE_AFTER_S``, per queue."""
        since = time.time() - STALE_AFTER_S
        queues = list(queues)
        with redis_errors():
            pipe = self.redis.pipeline()
            for queue in queues:
                pipe.zcount(_key(queue), since, "+inf")
            return dict(zip(queues, pipe.execute()))
