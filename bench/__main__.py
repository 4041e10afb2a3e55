"""``python -m bench [--smoke]``: run every scenario against every system, write results."""
from __future__ import annotations

import argparse
import dataclasses
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ceiling, ratios, report
from bench.load import run_load
from bench.memory import peak_rss_tree
from bench.scenarios import FULL, SMOKE, Step, digit_pngs, iris_rows, plan
from bench.systems import System, start_celery_baseline, start_predq, start_sync
from models.store import ModelStore
from models.cnn_training import train_cnn
from models.training import train_sklearn


def measure(system: System, steps: list[Step]) -> list[dict[str, Any]]:
    """Run ``steps`` against ``system``; warm-ups are run but not kept."""
    runs = []
    for step in steps:
        if step.warmup:
            run_load(system.url, step.workload, step.clients, step.duration)
            continue
        before = system.cpu_seconds()
        result = run_load(system.url, step.workload, step.clients, step.duration, step.jobs)
        after = system.cpu_seconds()
        # Where the CPU went during the run: a per-process profile of the system.
        result["cpu_s"] = {role: round(after[role] - before[role], 2) for role in after}
        runs.append({"scenario": step.scenario, "system": step.client, **result})
        unit = "jobs/s" if step.workload.images is None else "images/s"
        print(f"{step.scenario:20} {step.client:19} {step.clients:3} clients "
              f"{result['items_per_s']:10} {unit:8} p50 {result['latency_ms']['p50']} ms  "
              f"errors {result['errors']}", flush=True)  # fmt: skip
    return runs


def _interrupt(signum: int, frame: object) -> None:
    # A SIGTERM (timeout, CI) unwinds like Ctrl-C, so no process is left behind.
    raise KeyboardInterrupt


def main() -> int:
    """Run the benchmark; the results go to ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="seconds, not minutes: a check")
    parser.add_argument("--out", type=Path, help="default bench/results (smoke: .../smoke)")
    args = parser.parse_args()
    out = args.out or Path("bench/results/smoke" if args.smoke else "bench/results")
    sizes = SMOKE if args.smoke else FULL
    starters = [
        start_sync,
        start_celery_baseline,
        start_predq,
        lambda w, m: start_predq(w, m, name="predq-nobatch", PREDQ_VISION_MAX_BATCH_SIZE="1"),
    ]

    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    results: dict[str, Any] = {"machine": report.machine(), "smoke": args.smoke,
                               "sizes": dataclasses.asdict(sizes), "runs": [],
                               "worker_peak_rss_mib": {}}  # fmt: skip
    rows = iris_rows(500)
    pngs = digit_pngs(max(sizes.image_jobs, sizes.batch_images))
    with tempfile.TemporaryDirectory(prefix="predq-bench-") as tmp:
        store = ModelStore(Path(tmp) / "model_store")
        train_sklearn(store, "iris-tree")
        train_cnn(store, epochs=sizes.cnn_epochs)
        print(f"models trained in {time.monotonic() - started:.1f} s", flush=True)
        for start in starters:
            starting = time.monotonic()
            system = start(Path(tmp), store.root)
            print(f"{system.name} ready in {time.monotonic() - starting:.1f} s", flush=True)
            try:
                results["runs"] += measure(system, plan(system.name, sizes, rows, pngs))
                if system.name == "predq":
                    for role in ("worker-tabular", "worker-vision"):
                        peaks = peak_rss_tree(system.processes[role].pid)
                        results["worker_peak_rss_mib"][role] = {
                            "main": peaks.pop(str(system.processes[role].pid)),
                            **{f"pool child {i}": mib for i, mib in enumerate(peaks.values())},
                        }
            finally:
                system.stop()
        # Last, with every system stopped: the model alone on the whole machine.
        results["ceiling"] = ceiling.measure(store.root, rows, pngs, sizes)
    results["ratios"] = ratios.figures(results)
    results["targets"] = ratios.targets(results, sizes)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    report.write(results, out)
    print(f"results in {out}/ (results.json, table.md, chart.png); "
          f"the whole run took {results['elapsed_s']} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
