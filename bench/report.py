"""Writing the results: JSON, a markdown table for the README, and a PNG chart."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gpu": "none (CPU only)",
    }


def table(results: dict[str, Any]) -> str:
    """The markdown table pasted into README.md's Performance section."""
    lines = [
        "| scenario | system | clients | throughput (req/s) | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in results["runs"]:
        latency = run["latency_ms"]
        lines.append(
            f"| {run['scenario']} | {run['system']} | {run['clients']} | {run['throughput_rps']} "
            f"| {latency['p50']} | {latency['p95']} | {latency['p99']} | {run['errors']} |"
        )
    lines += ["", "CPU seconds used by each part during each run (the run plus ~1 s):", ""]
    lines += ["| scenario | system | CPU s per part |", "| --- | --- | --- |"]
    for run in results["runs"]:
        parts = ", ".join(f"{role} {s}" for role, s in run["cpu_s"].items())
        parts += f"; load generator {run['client_cpu_s']}"
        lines.append(f"| {run['scenario']} | {run['system']} | {parts} |")
    lines += ["", "| worker | process | peak RSS (MiB) |", "| --- | --- | ---: |"]
    for worker, peaks in results["worker_peak_rss_mib"].items():
        for role, mib in peaks.items():
            lines.append(f"| {worker} | {role} | {mib} |")
    m = results["machine"]
    lines += [
        "",
        f"Measured on {m['cpus']} CPUs, {m['gpu']}, {m['platform']}, Python {m['python']}.",
    ]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    """Throughput and p95 latency per scenario and system, side by side."""
    runs = results["runs"]
    labels = [f"{r['scenario']}\n{r['system']}" for r in runs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 0.5 * len(runs) + 2))
    left.barh(labels, [r["throughput_rps"] for r in runs], color="tab:blue")
    left.set_xlabel("throughput (req/s, higher is better)")
    right.barh(labels, [r["latency_ms"]["p95"] or 0 for r in runs], color="tab:orange")
    right.set_xlabel("p95 latency (ms, lower is better)")
    right.set_yticklabels([])
    for axis in (left, right):
        axis.invert_yaxis()
    fig.suptitle(f"predq vs baselines ({results['machine']['cpus']} CPUs, no GPU)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write(results: dict[str, Any], out: Path) -> None:
    """results.json, table.md and chart.png under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "table.md").write_text(table(results))
    chart(results, out / "chart.png")
