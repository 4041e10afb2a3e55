"""A multi-process, closed-loop load generator (not bounded by one GIL)."""
from __future__ import annotations

import dataclasses
import multiprocessing
import random
import resource
import signal
import time
from typing import Any

import requests


@dataclasses.dataclass(frozen=True)
class Workload:
    """What each request sends: JSON rows or one image, and the headers to add."""

    path: str
    rows: list[list[list[float]]] | None = None
    images: list[bytes] | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def send(self, session: requests.Session, url: str, rng: random.Random) -> requests.Response:
        """One request with a randomly chosen input."""
        if self.images is not None:
            files = {"image": ("x.png", rng.choice(self.images), "image/png")}
            return session.post(url + self.path, files=files, headers=self.headers, timeout=60)
        body = {"instances": rng.choice(self.rows or [])}
        return session.post(url + self.path, json=body, headers=self.headers, timeout=60)


def _client(args: tuple[str, Workload, float, float, int]) -> list[tuple[float, float, bool]]:
    url, workload, start_at, duration, seed = args
    rng = random.Random(seed)
    session = requests.Session()
    samples = []
    while time.time() < start_at:
        time.sleep(0.005)
    end = start_at + duration
    while (sent := time.time()) < end:
        try:
            response = workload.send(session, url, rng)
            ok = response.status_code == 200 and response.json()["status"] == "succeeded"
        except requests.RequestException:
            ok = False
        samples.append((sent - start_at, time.time() - sent, ok))
    return samples


def run_load(url: str, workload: Workload, clients: int, duration: float) -> dict[str, Any]:
    """``clients`` processes each send requests back to back for ``duration`` seconds."""
    start_at = time.time() + 1.0  # every process starts together
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    jobs = [(url, workload, start_at, duration, seed) for seed in range(clients)]
    # The pool's processes must die quietly on the SIGTERM that ends the pool.
    initializer = signal.signal
    with multiprocessing.get_context("fork").Pool(
        clients, initializer, (signal.SIGTERM, signal.SIG_DFL)
    ) as pool:
        samples = [s for result in pool.map(_client, jobs) for s in result]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = usage.ru_utime + usage.ru_stime - reaped.ru_utime - reaped.ru_stime
    latencies = sorted(latency for _, latency, ok in samples if ok)
    errors = sum(1 for *_, ok in samples if not ok)

    def percentile(q: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)

    return {
        "clients": clients,
        "duration_s": duration,
        "requests": len(samples),
        "errors": errors,
        "throughput_rps": round(len(latencies) / duration, 2),
        "latency_ms": {"p50": percentile(0.50), "p95": percentile(0.95), "p99": percentile(0.99)},
        # The load generator shares the machine: its CPU is not the system's to use.
        "client_cpu_s": round(client_cpu, 2),
    }
