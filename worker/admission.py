"""Admission control: per-owner limits on outstanding jobs, and idempotency keys."""
from __future__ import annotations

import hashlib
import time

import redis

from worker import job_scripts
from worker.errors import IdempotencyKeyReused, TooManyJobs
from worker.jobs import redis_errors

IDEMPOTENCY_TTL = 24 * 3600


class Admission:
    """Decides whether a job may be accepted, in the same Redis as the job records."""

    def __init__(self, client: redis.Redis, job_ttl: int, max_outstanding: int) -> None:
        self.redis = client
        self.job_ttl = job_ttl
        self.max_outstanding = max_outstanding
        self._admit = client.register_script(job_scripts.ADMIT)

    def admit(self, owner: str, job_id: str) -> None:
        """Count ``job_id`` against ``owner``'s outstanding jobs, or raise TooManyJobs.

        A job leaves the count when it ends (the job scripts remove it) or,
        should its record be lost, when its TTL runs out.
        """
        now_ms = int(time.time() * 1000)
        with redis_errors():
            admitted = self._admit(
                keys=[f"predq:owner:{owner}:active"],
                args=[job_id, now_ms, now_ms + self.job_ttl * 1000, self.max_outstanding],
            )
        if not admitted:
            raise TooManyJobs(
                f"{self.max_outstanding} jobs are already queued or running for this client; "
                "wait for some to finish"
            )

    @staticmethod
    def _key(owner: str, idempotency_key: str) -> str:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
        return f"predq:idempotency:{owner}:{digest}"

    def claim(self, owner: str, idempotency_key: str, fingerprint: str, job_id: str) -> str | None:
        """Reserve ``idempotency_key`` for ``job_id`` for 24 h.

        Returns None when the key is new, else the id of the job that already
        holds it; raises IdempotencyKeyReused if that job was a different request.
        """
        key = self._key(owner, idempotency_key)
        with redis_errors():
            if self.redis.set(key, f"{job_id} {fingerprint}", nx=True, ex=IDEMPOTENCY_TTL):
                return None
            held = self.redis.get(key)
        if held is None:  # expired in between: the key is free again
            return self.claim(owner, idempotency_key, fingerprint, job_id)
        held_id, held_fingerprint = held.decode().split(" ", 1)
        if held_fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different request"
            )
        return held_id

    def release(self, owner: str, idempotency_key: str) -> None:
        """Free a key whose job could not be accepted, so a retry can use it."""
        with redis_errors():
            self.redis.delete(self._key(owner, idempotency_key))
