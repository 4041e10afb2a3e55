"""``python -m bench [--smoke]``: run every scenario against every system, write results."""
from __future__ import annotations

import argparse
import io
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import datasets

from bench import report
from bench.load import Workload, run_load
from bench.memory import peak_rss_tree
from bench.systems import (
    PREDQ_AUTHORIZATION,
    System,
    start_celery_baseline,
    start_predq,
    start_sync,
)
from models.store import ModelStore
from models.training import train_defaults

# predq answers in one round trip when the job ends within the wait.
PREDQ_HEADERS = {"Prefer": "wait=30", "Cache-Control": "no-store", **PREDQ_AUTHORIZATION}


def iris_rows(n: int) -> list[list[list[float]]]:
    """``n`` one-row requests with random but plausible iris measurements."""
    rng = np.random.default_rng(0)
    low, high = np.array([4.3, 2.0, 1.0, 0.1]), np.array([7.9, 4.4, 6.9, 2.5])
    return [[list(map(float, rng.uniform(low, high).round(2)))] for _ in range(n)]


def digit_pngs(n: int) -> list[bytes]:
    """``n`` distinct digit images as PNG bytes, as clients would upload them."""
    from models.cnn_training import digits_image

    pngs = []
    for pixels in datasets.load_digits().images[:n]:
        buffer = io.BytesIO()
        digits_image(pixels).save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
    return pngs


def scenarios(system: str) -> dict[str, Workload]:
    """The workloads a system is measured on."""
    headers = PREDQ_HEADERS if system.startswith("predq") else {}
    tabular = Workload("/v1/models/iris-svm/jobs", rows=iris_rows(500), headers=headers)
    vision = Workload("/v1/models/digits-cnn/jobs", images=digit_pngs(200), headers=headers)
    if system == "predq-nobatch":
        return {"vision 1 image": vision}
    chosen = {"tabular 1 row": tabular, "vision 1 image": vision}
    if system == "predq":
        # The same row again and again: answered from the result cache.
        chosen["tabular 1 row, cached"] = Workload(
            tabular.path, rows=iris_rows(1), headers={"Prefer": "wait=30", **PREDQ_AUTHORIZATION}
        )
    return chosen


def measure(system: System, clients: int, duration: float) -> list[dict[str, Any]]:
    """Warm each scenario up under the same load (every process loads its
    models on first use), then measure it."""
    runs = []
    for name, workload in scenarios(system.name).items():
        run_load(system.url, workload, clients, min(duration, 2.0))
        before = system.cpu_seconds()
        result = run_load(system.url, workload, clients, duration)
        after = system.cpu_seconds()
        # Where the CPU went during the run: a per-process profile of the system.
        result["cpu_s"] = {role: round(after[role] - before[role], 2) for role in after}
        runs.append({"scenario": name, "system": system.name, **result})
        print(f"{name:24} {system.name:14} {result['throughput_rps']:8} req/s  "
              f"p95 {result['latency_ms']['p95']} ms  errors {result['errors']}", flush=True)
    return runs


def _interrupt(signum: int, frame: object) -> None:
    # A SIGTERM (timeout, CI) unwinds like Ctrl-C, so no process is left behind.
    raise KeyboardInterrupt


def main() -> int:
    """Run the benchmark; the results go to ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="seconds, not minutes: a check")
    parser.add_argument("--out", type=Path, help="default bench/results (smoke: .../smoke)")
    parser.add_argument("--clients", type=int, help="load processes (default 8; smoke 2)")
    parser.add_argument("--duration", type=float, help="seconds per run (default 15; smoke 1)")
    args = parser.parse_args()
    out = args.out or Path("bench/results/smoke" if args.smoke else "bench/results")
    clients = args.clients or (2 if args.smoke else 8)
    duration = args.duration or (1.0 if args.smoke else 15.0)
    starters = [start_sync, start_celery_baseline, start_predq]
    if not args.smoke:
        starters.append(lambda w, m: start_predq(
            w, m, name="predq-nobatch", PREDQ_VISION_MAX_BATCH_SIZE="1"))

    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    results: dict[str, Any] = {"machine": report.machine(), "smoke": args.smoke, "runs": [],
                               "worker_peak_rss_mib": {}}
    with tempfile.TemporaryDirectory(prefix="predq-bench-") as tmp:
        store = ModelStore(Path(tmp) / "model_store")
        train_defaults(store)
        for start in starters:
            system = start(Path(tmp), store.root)
            try:
                results["runs"] += measure(system, clients, duration)
                if system.name == "predq":
                    for role in ("worker-tabular", "worker-vision"):
                        peaks = peak_rss_tree(system.processes[role].pid)
                        results["worker_peak_rss_mib"][role] = {
                            "main": peaks.pop(str(system.processes[role].pid)),
                            **{f"pool child {i}": mib for i, mib in enumerate(peaks.values())},
                        }
            finally:
                system.stop()
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    report.write(results, out)
    print(f"results in {out}/ (results.json, table.md, chart.png)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
