"""Admission on a real Redis: outstanding-job caps and idempotency keys."""
from __future__ import annotations

import pytest
import redis

from worker.admission import Admission
from worker.errors import IdempotencyKeyReused, TooManyJobs


@pytest.fixture
def admission(redis_client: redis.Redis) -> Admission:
    return Admission(redis_client, job_ttl=600, max_outstanding=2)


def test_an_owner_is_capped_and_others_are_not(admission: Admission) -> None:
    admission.admit("carol", "job-1")
    admission.admit("carol", "job-2")
    with pytest.raises(TooManyJobs):
        admission.admit("carol", "job-3")
    admission.admit("dave", "job-4")


def test_expired_jobs_free_their_slot(redis_client: redis.Redis) -> None:
    short = Admission(redis_client, job_ttl=0, max_outstanding=1)
    short.admit("erin", "job-1")
    short.admit("erin", "job-2")  # job-1's TTL (0 s) is over: it no longer counts


def test_idempotency_key_is_held_by_the_first_job(admission: Admission) -> None:
    assert admission.claim("frank", "k1", "fp-a", "job-1") is None
    assert admission.claim("frank", "k1", "fp-a", "job-2") == "job-1"
    with pytest.raises(IdempotencyKeyReused):
        admission.claim("frank", "k1", "fp-b", "job-3")
    assert admission.claim("grace", "k1", "fp-b", "job-4") is None  # keys are per owner
    admission.release("frank", "k1")
    assert admission.claim("frank", "k1", "fp-b", "job-5") is None
