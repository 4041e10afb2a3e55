"""The result cache: finished results keyed by model version and input bytes.

A request whose model version and canonical input bytes match a job that
already succeeded is answered from here without reaching a worker. Entries
expire after ``PREDQ_CACHE_TTL`` seconds; hit and miss counts are kept per
model version.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import redis

from worker.jobs import JobStore, redis_errors

_STATS = "predq:cache:stats"
# Read an entry and count the hit or miss in one round trip.
_LOOKUP = """
local value = redis.call('GET', KEYS[1])
redis.call('HINCRBY', KEYS[2], ARGV[1] .. (value and ':hits' or ':misses'), 1)
return value
"""


def rows_digest(rows: Sequence[Sequence[float]]) -> str:
    """sha256 of validated rows in one canonical JSON spelling."""
    canonical = json.dumps(rows, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def images_digest(blobs: Sequence[bytes]) -> str:
    """sha256 over each image's own sha256, in order (so boundaries count)."""
    outer = hashlib.sha256()
    for blob in blobs:
        outer.update(hashlib.sha256(blob).digest())
    return outer.hexdigest()


class ResultCache:
    """Results of succeeded jobs in Redis, with a TTL; ``ttl <= 0`` disables it."""

    def __init__(self, client: redis.Redis, ttl: int) -> None:
        self.redis = client
        self.ttl = ttl
        self._lookup = client.register_script(_LOOKUP)

    @property
    def enabled(self) -> bool:
        """False when ``PREDQ_CACHE_TTL`` is 0."""
        return self.ttl > 0

    @staticmethod
    def key(owner: str, model_ref: str, digest: str) -> str:
        """The Redis key of one owner's result of one model version for one input.

        Per owner: a cache shared between clients would tell one client,
        by a hit, that another had submitted the same input.
        """
        return f"predq:cache:{owner}:{model_ref}:{digest}"

    def lookup(self, model_ref: str, key: str) -> list[dict[str, Any]] | None:
        """The cached results for ``key`` (counted as a hit or a miss)."""
        with redis_errors():
            value = self._lookup(keys=[key, _STATS], args=[model_ref])
        return json.loads(value) if value else None

    def remember(self, job_id: str, key: str) -> None:
        """Note that job ``job_id``'s results belong under ``key``.

        The job's last chunk stores them there as the job succeeds (see
        :mod:`worker.job_scripts`).
        """
        with redis_errors():
            self.redis.set(JobStore.cache_note_key(job_id), key, ex=self.ttl)

    def stats(self) -> dict[str, dict[str, int]]:
        """Hits and misses per model version since the counters were created."""
        with redis_errors():
            raw = self.redis.hgetall(_STATS)
        counts: dict[str, dict[str, int]] = {}
        for field, value in raw.items():
            ref, kind = field.decode().rsplit(":", 1)
            counts.setdefault(ref, {"hits": 0, "misses": 0})[kind] = int(value)
        return dict(sorted(counts.items()))
