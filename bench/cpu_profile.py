"""``python -m bench.cpu_profile``: where the CPU of an iris ``Prefer: wait`` prediction goes.

Runs predq as the benchmark does, drives it with iris-tree single-row
requests from ``--clients`` processes, samples the API and the tabular
worker with py-spy (``pip install py-spy``; ``--gil``: Python's CPU, not
threads blocked on a socket) and reads Redis's per-command times. Prints
CPU ms per job per process and the share of samples per library. On a
shared machine the absolute numbers drift; the shares hold.
"""
from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import redis

from bench.scenarios import CLIENTS, iris_rows
from bench.load import Workload, run_load
from bench.systems import start_predq
from models.store import ModelStore
from models.training import train_sklearn

# First match from the innermost frame outwards names the sample's library.
CATEGORIES = [
    ("json", r"(^|/)json/"),
    ("redis-py (commands, parsing, sockets)", r"(^|/)redis/"),
    ("kombu/celery (messages, ack, events)", r"(^|/)(kombu|celery|billiard|amqp|vine)/"),
    ("scikit-learn/numpy (the model)", r"(^|/)(sklearn|numpy|scipy|skops)/"),
    ("flask/werkzeug (routing, request, response)", r"(^|/)(flask|werkzeug|jinja2|itsdangerous)/"),
    ("gunicorn (HTTP parsing, access log)", r"(^|/)gunicorn/"),
    ("predq's own code", r"(^|/)(api|worker|models)/[a-z_]+\.py"),
    ("stdlib (logging, threading, socket, ...)", r"."),
]
# py-spy names a frame ``function (path/to/module.py:line)``.
_FRAME = re.compile(r"\(([^()]*\.py):\d+\)")


def classify(stack: str) -> str:
    """The library a collapsed py-spy stack (outermost frame first) was sampled in."""
    frames = [m.group(1) for m in _FRAME.finditer(stack)]
    for frame in reversed(frames):
        for name, pattern in CATEGORIES:
            if re.search(pattern, frame):
                return name
    return "other"


def shares(path: Path) -> dict[str, float]:
    """Per-library share of the samples in a py-spy ``--format raw`` file."""
    counts: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack:
            counts[classify(stack)] += int(n)
    total = sum(counts.values()) or 1
    return {name: round(100 * n / total, 1) for name, n in counts.most_common()}


def main() -> int:
    """Profile the iris Prefer: wait path and print the findings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--keep", type=Path, help="copy py-spy's raw stacks here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="predq-profile-") as tmp:
        store = ModelStore(Path(tmp) / "store")
        train_sklearn(store, "iris-tree")
        system = start_predq(Path(tmp), store.root)
        try:
            client = redis.Redis.from_url(system.redis.url)
            client.config_resetstat()
            before = system.cpu_seconds()
            spies = {
                role: subprocess.Popen([
                    "py-spy", "record", "--pid", str(system.processes[role].pid),
                    "--subprocesses", "--gil", "--nonblocking", "--rate", "200", "--format", "raw",
                    "--duration", str(int(args.duration) + 1), "--output", f"{tmp}/{role}.txt",
                ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
                for role in ("web", "worker-tabular")
            }
            _, headers, _ = CLIENTS["predq-wait"]
            workload = Workload("/v1/models/iris-tree/jobs", rows=iris_rows(500), headers=headers)
            result = run_load(system.url, workload, args.clients, args.duration)
            after = system.cpu_seconds()
            for spy in spies.values():
                spy.wait()
            stats = client.info("commandstats")
        finally:
            system.stop()
        jobs = result["requests"] - result["errors"]
        print(f"{jobs} jobs in {args.duration} s from {args.clients} clients: {jobs / args.duration:.0f} jobs/s")
        print("CPU ms per job:", {r: round(1000 * (after[r] - before[r]) / jobs, 2) for r in after})
        busiest = sorted(stats.items(), key=lambda kv: -kv[1]["usec"])[:16]
        print("Redis usec (calls) per job by command:", {
            k.removeprefix("cmdstat_"): f"{v['usec'] / jobs:.1f} ({v['calls'] / jobs:.1f})"
            for k, v in busiest
        })
        print("Redis calls per job:", round(sum(v["calls"] for v in stats.values()) / jobs, 1))
        for role in spies:
            print(f"{role} samples by library (%):", shares(Path(tmp) / f"{role}.txt"))
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(Path(tmp) / f"{role}.txt", args.keep / f"{role}.txt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
