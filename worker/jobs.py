"""predq's own job records in Redis: the source of truth for job status.

Celery's task state cannot tell an unknown id from a queued one (both read
PENDING), so every job gets a record here when it is accepted, and workers
move it through its states with the atomic scripts in :mod:`job_scripts`.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import redis
from kombu.exceptions import OperationalError

from worker import job_scripts
from worker.documents import JobStatus, document, error_json, lost_document, utc_now
from worker.errors import BrokerUnavailable, JobFinished, JobNotFound
from worker.job_events import RECHECK_S, JobEvents
from worker.job_ids import JobIds
from worker.webhook_targets import WebhookTarget

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # worker.batching imports this module
    from worker.batching import ChunkRef


@contextmanager
def redis_errors() -> Iterator[None]:
    """Turn Redis being unreachable, or refusing writes, into BrokerUnavailable."""
    try:
        yield
    # The messages reach clients: they name the condition, never Redis's own
    # text, which can quote the command (uploaded bytes) or internal addresses.
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise BrokerUnavailable("the job store (Redis) is unreachable") from exc
    except (redis.exceptions.OutOfMemoryError, redis.exceptions.ReadOnlyError) as exc:
        # noeviction: a full Redis refuses new jobs rather than dropping queued ones.
        raise BrokerUnavailable("the job store (Redis) is full or read-only") from exc


class JobStore:
    """Creates, reads, updates and waits on job records in one Redis database."""

    def __init__(
        self,
        client: redis.Redis,
        ttl: int,
        secret: str = "",
        notify: Callable[[str], None] | None = None,
    ) -> None:
        """``notify(job_id)`` queues the delivery of a job's webhook (None: nothing is queued)."""
        self.redis = client
        self.ttl = ttl
        self.ids = JobIds(secret)
        self.notify = notify
        self.events = JobEvents(client, self._keys("*")["channel"])
        self._start = client.register_script(job_scripts.START)
        self._complete = client.register_script(job_scripts.COMPLETE_CHUNK)
        self._finish = client.register_script(job_scripts.FINISH)
        self._claim_webhook = client.register_script(job_scripts.CLAIM_WEBHOOK)
        self._log_delivery = client.register_script(job_scripts.LOG_DELIVERY)

    @classmethod
    def from_url(
        cls, url: str, ttl: int, secret: str = "", notify: Callable[[str], None] | None = None
    ) -> JobStore:
        """A store on the Redis at ``url`` with short connect timeouts."""
        client = redis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
        return cls(client, ttl, secret, notify)

    @staticmethod
    def _keys(job_id: str) -> dict[str, str]:
        base = f"predq:job:{job_id}"
        return {
            "job": base,
            "results": f"{base}:results",
            "chunks": f"{base}:chunks",
            "inputs": f"{base}:inputs",
            "attempts": f"{base}:attempts",
            "deliveries": f"{base}:webhook",
            "channel": f"{base}:events",
            "cache_key": f"{base}:cache-key",
        }

    @classmethod
    def cache_note_key(cls, job_id: str) -> str:
        """Where the result-cache key of a job's results is noted until it succeeds."""
        return cls._keys(job_id)["cache_key"]

    def _script_keys(self, job_id: str) -> tuple[list[str], str]:
        keys = self._keys(job_id)
        names = ("job", "results", "chunks", "inputs", "attempts", "cache_key")
        return [keys[name] for name in names], keys["channel"]

    def create(
        self,
        job_id: str,
        owner: str,
        model_ref: str,
        total: int,
        inputs: Sequence[bytes | str] = (),
        webhook: WebhookTarget | None = None,
    ) -> dict[str, Any]:
        """Record a new queued job (and its inputs) with the store's TTL; return its document.

        The document is built from what was written, not read back: a round
        trip saved on every submit, and a true snapshot of the job as accepted.
        """
        keys = self._keys(job_id)
        record = {
            **_webhook_fields(webhook),
            "id": job_id,
            "owner": owner,
            "model": model_ref,
            "status": JobStatus.QUEUED.value,
            "created_at": utc_now(),
            "total": total,
            "done": 0,
            "failed_items": 0,
            "attempts": 0,
        }
        with redis_errors():
            pipe = self.redis.pipeline()
            pipe.hset(keys["job"], mapping=record)
            pipe.expire(keys["job"], self.ttl)
            if inputs:
                pipe.hset(keys["inputs"], mapping=dict(enumerate(inputs)))
                pipe.expire(keys["inputs"], self.ttl)
            pipe.execute()
        return document({k: str(v) for k, v in record.items()}, {})

    def create_cached(
        self,
        job_id: str,
        owner: str,
        model_ref: str,
        results: Sequence[Any],
        webhook: WebhookTarget | None = None,
    ) -> dict[str, Any]:
        """Record a job answered from the result cache, already succeeded; return its document."""
        keys = self._keys(job_id)
        now = utc_now()
        record = {
            **_webhook_fields(webhook),
            "id": job_id,
            "owner": owner,
            "model": model_ref,
            "status": JobStatus.SUCCEEDED.value,
            "created_at": now,
            "started_at": now,
            "finished_at": now,
            "total": len(results),
            "done": len(results),
            "failed_items": sum(1 for r in results if "error" in r),
            "attempts": 0,
            "cached": 1,
        }
        encoded = {i: json.dumps(r) for i, r in enumerate(results)}
        with redis_errors():
            pipe = self.redis.pipeline()
            pipe.hset(keys["job"], mapping=record)
            pipe.hset(keys["results"], mapping=encoded)
            pipe.hincrby(job_scripts.FINISHED_COUNTS, f"{model_ref} {JobStatus.SUCCEEDED.value} ")
            pipe.expire(keys["job"], self.ttl)
            pipe.expire(keys["results"], self.ttl)
            pipe.execute()
        if webhook is not None:
            self._ended(job_id)
        return document({k: str(v) for k, v in record.items()}, encoded)

    def inputs(self, job_id: str, start: int, stop: int) -> list[bytes | None]:
        """Uploaded inputs ``start..stop-1`` (None where they have expired)."""
        with redis_errors():
            return self.redis.hmget(self._keys(job_id)["inputs"], list(range(start, stop)))

    def start(self, job_id: str, chunk: int, worker: str, max_attempts: int) -> bool:
        """Count an attempt at a chunk; True if it should run.

        False for a job that is gone or over, a chunk already done, or a chunk
        past ``max_attempts`` (the job then fails: a poison input that keeps
        killing workers must not be retried forever).
        """
        with redis_errors():
            outcome = self._start_on(self.redis, job_id, chunk, worker, max_attempts)
        return self._started(job_id, outcome)

    def start_chunks(
        self, chunks: Sequence[ChunkRef], worker: str, max_attempts: int
    ) -> list[list[bytes | None] | None]:
        """:meth:`start` every chunk and read its inputs, in one round trip.

        One entry per chunk: its inputs (None where expired), or None for a
        chunk that should not run.
        """
        with redis_errors():
            pipe = self.redis.pipeline(transaction=False)
            for c in chunks:
                self._start_on(pipe, c.job_id, c.chunk, worker, max_attempts)
                pipe.hmget(self._keys(c.job_id)["inputs"], list(range(c.start, c.stop)))
            replies = pipe.execute()
        return [
            inputs if self._started(c.job_id, outcome) else None
            for c, outcome, inputs in zip(chunks, replies[::2], replies[1::2])
        ]

    def _started(self, job_id: str, outcome: int) -> bool:
        """Whether START's ``outcome`` lets a chunk run; 2 means it failed its job just now."""
        if outcome == 2:
            self._ended(job_id)
        return outcome == 1

    def _start_on(
        self, client: Any, job_id: str, chunk: int, worker: str, max_attempts: int
    ) -> Any:
        keys, channel = self._script_keys(job_id)
        too_many = error_json(
            "too_many_attempts",
            f"chunk {chunk} was started {max_attempts} times without finishing "
            "(the worker running it died each time)",
        )
        args = [channel, utc_now(), chunk, worker, max_attempts, too_many]
        return self._start(keys=keys, args=args, client=client)

    def complete_chunk(
        self, job_id: str, chunk: int, start: int, results: Sequence[dict[str, Any]]
    ) -> JobStatus | None:
        """Store a chunk's item results; the last chunk makes the job terminal.

        A chunk delivered twice (after a worker crash) is counted once.
        """
        return self.complete_chunks([(job_id, chunk, start, results)])[0]

    def complete_chunks(
        self, chunks: Sequence[tuple[str, int, int, Sequence[dict[str, Any]]]]
    ) -> list[JobStatus | None]:
        """:meth:`complete_chunk` for ``(job_id, chunk, start, results)`` each, in one round trip."""
        all_failed = error_json("all_items_failed", "every item of the job failed; see result")
        with redis_errors():
            pipe = self.redis.pipeline(transaction=False)
            for job_id, chunk, start, results in chunks:
                keys, channel = self._script_keys(job_id)
                failed = sum(1 for r in results if "error" in r)
                pairs: list[Any] = []
                for offset, result in enumerate(results):
                    pairs += [start + offset, json.dumps(result)]
                args = [channel, utc_now(), chunk, len(results), failed, all_failed, *pairs]
                self._complete(keys=keys, args=args, client=pipe)
                # In the same round trip: the claim only takes a job that has
                # just ended with a webhook due, so jobs without one cost nothing.
                self._claim_on(pipe, job_id)
            replies = pipe.execute()
        step = 1 if self.notify is None else 2
        for (job_id, *_), claimed in zip(chunks, replies[1::step]):
            if claimed:
                self._notify(job_id)
        return [JobStatus(status.decode()) if status else None for status in replies[::step]]

    def chunk_done(self, job_id: str, chunk: int) -> bool:
        """True once a chunk's results are recorded (here or by another worker)."""
        with redis_errors():
            return bool(self.redis.sismember(self._keys(job_id)["chunks"], chunk))

    def finish(self, job_id: str, status: JobStatus, error: str = "") -> JobStatus | None:
        """Move a live job to a terminal ``status``; return its status before."""
        keys, channel = self._script_keys(job_id)
        with redis_errors():
            before = self._finish(keys=keys, args=[channel, utc_now(), status.value, error])
        if before and not JobStatus(before.decode()).is_terminal:
            self._ended(job_id)
        return JobStatus(before.decode()) if before else None

    def _ended(self, job_id: str) -> None:
        """Schedule the webhook of a job that just ended, if it has one due (once)."""
        with redis_errors():
            claimed = self._claim_on(self.redis, job_id)
        if claimed:
            self._notify(job_id)

    def _claim_on(self, client: Any, job_id: str) -> Any:
        """Claim a job's due webhook on ``client`` (a pipeline too); nothing without ``notify``."""
        if self.notify is None:
            return None
        keys = self._keys(job_id)
        return self._claim_webhook(keys=[keys["job"], keys["deliveries"]], client=client)

    def _notify(self, job_id: str) -> None:
        if self.notify is None:
            return
        try:
            self.notify(job_id)
        except (OperationalError, redis.RedisError):
            # The job's result stands; only its notification is lost, and the
            # job document says so (its webhook stays 'scheduled', no attempts).
            log.exception("could not schedule the webhook of job %s", job_id)

    def owner(self, job_id: str) -> str | None:
        """Who submitted a job; None once it is gone."""
        with redis_errors():
            owner = self.redis.hget(self._keys(job_id)["job"], "owner")
        return owner.decode() if owner is not None else None

    def log_delivery(self, job_id: str, entry: dict[str, Any], state: str) -> int:
        """Append one delivery attempt to a job's webhook log; 0 if the job is gone."""
        keys = self._keys(job_id)
        with redis_errors():
            return int(
                self._log_delivery(
                    keys=[keys["job"], keys["deliveries"]], args=[json.dumps(entry), state]
                )
            )

    def fail(self, job_id: str, code: str, message: str) -> None:
        """End a live job as failed with an error code and message."""
        self.finish(job_id, JobStatus.FAILED, error_json(code, message))

    def cancel(self, job_id: str, owner: str) -> None:
        """Cancel ``owner``'s queued or running job; its remaining work is skipped."""
        self.get(job_id, owner)  # another owner's job is not found
        before = self.finish(job_id, JobStatus.CANCELLED)
        if before is None:
            raise JobNotFound(f"no job {job_id!r}")
        if before.is_terminal:
            raise JobFinished(f"job {job_id} is already {before.value}")

    def get(self, job_id: str, owner: str | None = None) -> dict[str, Any]:
        """The job document clients see; raises JobNotFound.

        With ``owner``, another owner's job is not found either. A job this
        service issued whose record Redis no longer has, within its TTL, is
        reported ``failed`` with code ``lost``.
        """
        keys = self._keys(job_id)
        with redis_errors():
            pipe = self.redis.pipeline()
            pipe.hgetall(keys["job"])
            pipe.hgetall(keys["results"])
            pipe.lrange(keys["deliveries"], 0, -1)
            record, results, deliveries = pipe.execute()
        if not record:
            return self._lost(job_id, owner)
        fields = {k.decode(): v.decode() for k, v in record.items()}
        if owner is not None and fields.get("owner") != owner:
            raise JobNotFound(f"no job {job_id!r}")
        return document(fields, results, deliveries)

    def _lost(self, job_id: str, owner: str | None) -> dict[str, Any]:
        issued = None if owner is None else self.ids.issued_at(job_id, owner)
        if issued is None or issued + self.ttl < time.time():
            raise JobNotFound(f"no job {job_id!r}")
        return lost_document(job_id, issued)

    def wait(self, job_id: str, timeout: float, owner: str | None = None) -> dict[str, Any]:
        """The job document once it is terminal, or after ``timeout`` seconds.

        Watches the job's channel before reading the record, so a job that
        finishes in between is not missed; wakes on the job's message (the
        process's one listener, :mod:`worker.job_events`), never on a timer,
        but for a re-read every ``RECHECK_S`` in case a message was lost.
        """
        deadline = time.monotonic() + timeout
        with self.events.watching(self._keys(job_id)["channel"]) as changed:
            document = self.get(job_id, owner)
            while not JobStatus(document["status"]).is_terminal:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                changed.wait(min(remaining, RECHECK_S))
                changed.clear()
                document = self.get(job_id, owner)
        return document

    def finished_counts(self) -> dict[tuple[str, str, str], int]:
        """Jobs ended so far (cached ones included), by ``(model@version, status,
        error code)``; the code is empty unless the job failed."""
        with redis_errors():
            raw = self.redis.hgetall(job_scripts.FINISHED_COUNTS)
        counts = {}
        for field, value in raw.items():
            model_ref, status, code = field.decode().split(" ")
            counts[model_ref, status, code] = int(value)
        return counts

    def ping(self) -> None:
        """Raise BrokerUnavailable unless Redis answers."""
        with redis_errors():
            self.redis.ping()


def _webhook_fields(webhook: WebhookTarget | None) -> dict[str, str]:
    if webhook is None:
        return {}
    return {"webhook_url": webhook.url, "webhook_events": ",".join(webhook.events)}
