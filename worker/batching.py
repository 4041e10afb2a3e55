"""Dynamic batching of chunks across jobs, without giving up Celery's guarantees.

The same mechanism batches tabular rows and images, each queue with its own
limits. Every chunk still travels as its own Celery message (acks_late, prefetch 1,
requeued when a worker is lost). Alongside, the API lists each chunk in a
per-model *pending* set in Redis. A worker that takes one message claims
more pending chunks of the same model version, waiting at most
``max_delay_ms`` for them, up to ``max_batch_size`` rows or images, and runs
them in one predict call. The message of a chunk that was batched elsewhere finds
the chunk already recorded and is acknowledged without work; if the worker
that claimed it died, that message runs the chunk itself. So the pending set
is only a hint: losing it loses no work, and ``complete_chunk`` still counts
each chunk once.
"""
from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence

import redis

from worker.jobs import redis_errors
from worker.settings import BatchLimits

_POLL_S = 0.001


@dataclasses.dataclass(frozen=True)
class ChunkRef:
    """One chunk of a job: its items (rows or images) ``start..stop-1``."""

    job_id: str
    chunk: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        """How many items the chunk holds."""
        return self.stop - self.start

    def member(self) -> str:
        """The chunk's spelling in the pending set."""
        return json.dumps([self.job_id, self.chunk, self.start, self.stop])

    @classmethod
    def parse(cls, member: bytes) -> ChunkRef:
        """The chunk a pending-set member names."""
        job_id, chunk, start, stop = json.loads(member)
        return cls(job_id, chunk, start, stop)


class PendingChunks:
    """Per-model sets of chunks queued but not yet claimed, oldest first."""

    def __init__(self, client: redis.Redis, ttl: int) -> None:
        self.redis = client
        self.ttl = ttl

    @staticmethod
    def _key(model_ref: str) -> str:
        return f"predq:pending:{model_ref}"

    def add(self, model_ref: str, chunks: Sequence[ChunkRef], limits: BatchLimits) -> None:
        """List a new job's chunks as claimable by workers batching within ``limits``.

        A chunk that leaves no room for another is not listed: no batch could
        take it, and at the head of the set it would hold back the chunks behind.
        """
        chunks = [c for c in chunks if limits.enabled and c.size < limits.max_batch_size]
        if not chunks:
            return
        now = time.time()
        key = self._key(model_ref)
        with redis_errors():
            pipe = self.redis.pipeline()
            pipe.zadd(key, {c.member(): now + i * 1e-6 for i, c in enumerate(chunks)})
            pipe.expire(key, self.ttl)
            pipe.execute()

    def discard(self, model_ref: str, chunk: ChunkRef) -> None:
        """Take a chunk out of the set: its own message is running it."""
        with redis_errors():
            self.redis.zrem(self._key(model_ref), chunk.member())

    def depth(self, model_refs: Sequence[str]) -> dict[str, int]:
        """How many chunks wait in each model version's set."""
        with redis_errors():
            pipe = self.redis.pipeline()
            for ref in model_refs:
                pipe.zcard(self._key(ref))
            return dict(zip(model_refs, pipe.execute()))

    def claim(self, model_ref: str, first: ChunkRef, limits: BatchLimits) -> list[ChunkRef]:
        """``first`` plus pending chunks of the same model, within ``limits``.

        Waits at most ``max_delay_ms`` for more chunks, and only while the
        batch is not full; a chunk too big for the room left goes
        back to the set for another batch.
        """
        batch, size = [first], first.size
        key = self._key(model_ref)
        deadline = time.monotonic() + limits.max_delay_ms / 1000
        with redis_errors():
            while limits.enabled and size < limits.max_batch_size:
                popped = self.redis.zpopmin(key)
                if not popped:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    # Not BZPOPMIN: Redis checks blocking timeouts only at its
                    # 'hz' (10 times a second), so a 5 ms wait took up to 100 ms.
                    time.sleep(min(remaining, _POLL_S))
                    continue
                member, score = popped[0]
                chunk = ChunkRef.parse(member)
                if size + chunk.size > limits.max_batch_size:
                    self.redis.zadd(key, {member: score})
                    break
                batch.append(chunk)
                size += chunk.size
        return batch
