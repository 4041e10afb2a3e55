"""A multi-process, closed-loop load generator (not bounded by one GIL).

Every system is driven by the same code: a client sends a job, and where the
answer is not final yet (202) it follows the job's ``Location`` by polling or
long-polling until the job ends. A synchronous server answers finally at once.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import random
import resource
import signal
import time
from typing import Any
from urllib.parse import urljoin

import requests

# How often a polling client asks again: often enough that polling, not the
# interval, dominates the latency it measures.
POLL_INTERVAL_S = 0.01
# predq's longest long-poll; servers without long-poll ignore it and answer at once.
LONG_POLL_S = 30
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


@dataclasses.dataclass(frozen=True)
class Workload:
    """What each job sends (JSON rows or images), its headers, and how the
    client follows a job that is not finished when the submit returns:
    ``"poll"`` (GET every ``POLL_INTERVAL_S``) or ``"long-poll"`` (GET ``?wait=``)."""

    path: str
    rows: list[list[list[float]]] | None = None
    images: list[bytes] | None = None
    images_per_job: int = 1
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    follow: str = "long-poll"

    @property
    def items_per_job(self) -> int:
        """Rows or images one job predicts."""
        return self.images_per_job if self.images is not None else len((self.rows or [[]])[0])

    def submit(self, session: requests.Session, url: str, index: int) -> requests.Response:
        """Send job number ``index``: its inputs are picked by that number."""
        if self.images is not None:
            first = index * self.images_per_job
            count = len(self.images)
            blobs = [self.images[(first + i) % count] for i in range(self.images_per_job)]
            files = [("image", (f"{i}.png", blob, "image/png")) for i, blob in enumerate(blobs)]
            return session.post(url + self.path, files=files, headers=self.headers, timeout=120)
        body = {"instances": (self.rows or [])[index % len(self.rows or [])]}
        return session.post(url + self.path, json=body, headers=self.headers, timeout=60)

    def run_job(self, session: requests.Session, url: str, index: int) -> bool:
        """Submit a job and follow it to its end; whether it succeeded."""
        response = self.submit(session, url, index)
        location = urljoin(url, response.headers.get("Location", ""))
        deadline = time.monotonic() + 120
        while response.status_code in (200, 202) and time.monotonic() < deadline:
            status = response.json()["status"]
            if status in TERMINAL:
                return status == "succeeded"
            if self.follow == "poll":
                time.sleep(POLL_INTERVAL_S)
                response = session.get(location, headers=self.headers, timeout=60)
            else:
                response = session.get(
                    location, params={"wait": LONG_POLL_S}, headers=self.headers, timeout=60
                )
        return False


# Set in each load process by the pool's initializer (inherited on fork, not pickled).
_shared: dict[str, Any] = {}


def _init(workload: Workload, counter: Any) -> None:
    # The pool's processes must die quietly on the SIGTERM that ends the pool.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _shared.update(workload=workload, counter=counter)


def _next_job(jobs: int | None, rng: random.Random) -> int | None:
    """The next job's number: from the shared counter up to ``jobs``, else random."""
    if jobs is None:
        return rng.randrange(1 << 30)
    counter = _shared["counter"]
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    return index if index < jobs else None


Sample = tuple[float, float, bool]  # started at (s from the start), latency (s), succeeded


def _client(args: tuple[str, float, float | None, int | None, int]) -> list[Sample]:
    url, start_at, duration, jobs, seed = args
    workload: Workload = _shared["workload"]
    rng = random.Random(seed)
    session = requests.Session()
    samples = []
    while time.time() < start_at:
        time.sleep(0.005)
    end = start_at + duration if duration is not None else float("inf")
    while (sent := time.time()) < end and (index := _next_job(jobs, rng)) is not None:
        try:
            ok = workload.run_job(session, url, index)
        except (requests.RequestException, ValueError, KeyError):
            ok = False
        samples.append((sent - start_at, time.time() - sent, ok))
    return samples


def run_load(
    url: str, workload: Workload, clients: int, duration: float | None = None,
    jobs: int | None = None,
) -> dict[str, Any]:
    """``clients`` processes send jobs back to back for ``duration`` seconds;
    with ``jobs``, until that many are done between them (or ``duration`` has
    passed, if given: a cap), timed until the last one ends."""
    # Every process starts together, once all of them are forked.
    start_at = time.time() + 0.2 + 0.02 * clients
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    args = [(url, start_at, duration, jobs, seed) for seed in range(clients)]
    with context.Pool(clients, _init, (workload, counter)) as pool:
        samples = [s for result in pool.map(_client, args) for s in result]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = usage.ru_utime + usage.ru_stime - reaped.ru_utime - reaped.ru_stime
    latencies = sorted(latency for _, latency, ok in samples if ok)
    errors = sum(1 for *_, ok in samples if not ok)
    if jobs is not None:
        duration = max((at + latency for at, latency, _ in samples), default=0.0)

    def percentile(q: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)

    throughput = len(latencies) / duration if duration else 0.0
    return {
        "clients": clients,
        "duration_s": round(duration, 2),
        "jobs": len(samples),
        "errors": errors,
        "jobs_per_s": round(throughput, 2),
        "items_per_s": round(throughput * workload.items_per_job, 1),
        "latency_ms": {"p50": percentile(0.50), "p95": percentile(0.95), "p99": percentile(0.99)},
        # The load generator shares the machine: its CPU is not the system's to use.
        "client_cpu_s": round(client_cpu, 2),
    }
