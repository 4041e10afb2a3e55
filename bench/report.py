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

from bench.ratios import CEILING, CEILING_DECODING  # noqa: E402
from bench.scenarios import BATCH_JOB, IRIS, IRIS_CACHED, SINGLE_IMAGES  # noqa: E402


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "gpu": "none (CPU only)",
    }


def _x(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def _share(target: dict[str, Any]) -> float:
    """How much of a measured target was reached: 1.0 or more means met."""
    if target["at_least"]:
        return target["measured"] / target["threshold"]
    return target["threshold"] / target["measured"]


def _verdict(target: dict[str, Any]) -> str:
    if target["met"] is None:
        return "not measured"
    if target["met"]:
        return "yes"
    if target["at_least"]:
        return f"no: {1 - _share(target):.0%} short"
    return f"no: {target['measured'] / target['threshold'] - 1:.0%} over"


def _targets_table(results: dict[str, Any]) -> list[str]:
    lines = ["## Issue #3's targets", "", "| target | measured | met? |", "| --- | ---: | --- |"]
    for target in results["targets"]:
        lines.append(f"| {target['target']} | {_x(target['measured'])} | {_verdict(target)} |")
    return lines


def _runs_table(results: dict[str, Any], scenarios: tuple[str, ...], unit: str,
                against: tuple[str, ...]) -> list[str]:
    """One row per run; predq's rows carry their ratios to ``against``."""
    vs = {(f["figure"], f["metric"]): f["vs"] for f in results["ratios"]}
    head = f"| scenario | system | clients | jobs | {unit} | p50 ms | p95 ms | p99 ms | errors |"
    head += "".join(f" {unit} vs {name} |" for name in against) + " p50 vs sync-flask |"
    lines = [head, "|" + " --- | --- |" + " ---: |" * (8 + len(against))]
    for run in results["runs"]:
        if run["scenario"] not in scenarios:
            continue
        figure = f"{run['scenario']}, {run['clients']} clients, {run['system']}"
        latency = run["latency_ms"]
        ratios = vs.get((figure, unit), {})
        lines.append(
            f"| {run['scenario']} | {run['system']} | {run['clients']} | {run['jobs']} "
            f"| {run['items_per_s']} "
            f"| {latency['p50']} | {latency['p95']} | {latency['p99']} | {run['errors']} |"
            + "".join(f" {_x(ratios.get(name))} |" for name in against)
            + f" {_x(vs.get((figure, 'p50 ms'), {}).get('sync-flask'))} |"
        )
    return lines


def _ceiling_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| model | best batch | per second | with PNG decoding (one thread) | by batch size |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for model, c in results["ceiling"].items():
        decoding = c.get("with_decoding_per_s")
        decoded = "" if decoding is None else f"{decoding:,.0f} {c['unit']}"
        by_batch = ", ".join(f"{size}: {rate:,.0f}" for size, rate in c["by_batch"].items())
        lines.append(
            f"| {model} | {c['best_batch']} | {c['per_s']:,.0f} {c['unit']} "
            f"| {decoded} | {by_batch} |"
        )
    return lines


def table(results: dict[str, Any]) -> str:
    """The markdown pasted into README.md's Performance section."""
    baselines = ("sync-flask", "flask-celery")
    lines = _targets_table(results)
    lines += ["", "## Single iris predictions (one row per job)", ""]
    lines += _runs_table(results, (IRIS, IRIS_CACHED), "jobs/s", (*baselines, CEILING))
    lines += ["", "## Digit images", ""]
    lines += _runs_table(results, (SINGLE_IMAGES, BATCH_JOB), "images/s",
                         (*baselines, CEILING, CEILING_DECODING))  # fmt: skip
    lines += ["", "## Raw model ceiling (in-process, no server)", ""] + _ceiling_table(results)
    lines += ["", "## Profile: CPU seconds used by each part during each run", ""]
    lines += ["| scenario | system | clients | CPU s per part |", "| --- | --- | ---: | --- |"]
    for run in results["runs"]:
        parts = ", ".join(f"{role} {s}" for role, s in run["cpu_s"].items())
        parts += f"; load generator {run['client_cpu_s']}"
        lines.append(f"| {run['scenario']} | {run['system']} | {run['clients']} | {parts} |")
    lines += ["", "## Worker memory", "", "| worker | process | peak RSS (MiB) |",
              "| --- | --- | ---: |"]  # fmt: skip
    for worker, peaks in results["worker_peak_rss_mib"].items():
        for role, mib in peaks.items():
            lines.append(f"| {worker} | {role} | {mib} |")
    m = results["machine"]
    lines += [
        "",
        f"Measured on {m['cpus']} CPUs, {m['gpu']}, {m['platform']}, Python {m['python']}; "
        f"the whole run took {results['elapsed_s']} s.",
    ]
    return "\n".join(lines) + "\n"


def _grouped_bars(axis: Any, runs: list[dict[str, Any]], value: Any, label: str) -> None:
    """Iris runs: one group per client count, one bar per system."""
    counts = sorted({r["clients"] for r in runs})
    systems = list(dict.fromkeys(r["system"] for r in runs))
    width = 0.8 / max(1, len(systems))
    for i, system in enumerate(systems):
        by_clients = {r["clients"]: value(r) or 0 for r in runs if r["system"] == system}
        xs = [c + (i - (len(systems) - 1) / 2) * width for c in range(len(counts))]
        axis.bar(xs, [by_clients.get(c, 0) for c in counts], width, label=system)
    axis.set_xticks(range(len(counts)), [f"{c} clients" for c in counts])
    axis.set_yscale("log")
    axis.set_ylabel(label)


def chart(results: dict[str, Any], path: Path) -> None:
    """Four panels: iris jobs/s and p50 by clients, images/s, and the targets."""
    runs = [r for r in results["runs"] if r["scenario"] == IRIS]
    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    _grouped_bars(axes[0][0], runs, lambda r: r["items_per_s"], "jobs/s (log, higher is better)")
    axes[0][0].set_title("single iris predictions: throughput")
    axes[0][0].legend(fontsize=8)
    _grouped_bars(axes[0][1], runs, lambda r: r["latency_ms"]["p50"],
                  "p50 ms (log, lower is better)")
    axes[0][1].set_title("single iris predictions: median latency")

    images = [r for r in results["runs"] if r["scenario"] in (SINGLE_IMAGES, BATCH_JOB)]
    cnn = results["ceiling"]["digits-cnn"]
    labels = [f"{r['scenario']}: {r['system']}" for r in images]
    labels += [f"raw ceiling (batch {cnn['best_batch']})", "raw ceiling with decoding"]
    values = [r["items_per_s"] for r in images] + [cnn["per_s"], cnn["with_decoding_per_s"]]
    colors = ["tab:green" if r["system"].startswith("predq") else "tab:gray" for r in images]
    bars = axes[1][0].barh(labels, values, color=colors + ["tab:red", "tab:red"])
    axes[1][0].bar_label(bars, fmt="{:,.0f}", fontsize=8, padding=2)
    axes[1][0].set_xscale("log")
    axes[1][0].set_xlabel("images/s (log, higher is better)")
    axes[1][0].set_title("digit images")
    axes[1][0].invert_yaxis()

    # Share of each target reached: 1.0 or more means met.
    targets = [t for t in results["targets"] if t["measured"]]
    shares = [_share(t) for t in targets]
    bars = axes[1][1].barh([t["target"].replace(": ", ":\n", 1) for t in targets], shares,
                           color=["tab:green" if t["met"] else "tab:red" for t in targets])
    axes[1][1].bar_label(bars, [f"{_x(t['measured'])} (target {t['threshold']:g}x)"
                                for t in targets], fontsize=8, padding=2)  # fmt: skip
    axes[1][1].axvline(1.0, color="black", linestyle="--")
    axes[1][1].set_xlabel("share of the target reached (>= 1 met)")
    axes[1][1].set_title("issue #3's targets")
    axes[1][1].tick_params(axis="y", labelsize=8)
    axes[1][1].invert_yaxis()
    fig.suptitle(f"predq vs baselines ({results['machine']['cpus']} CPUs, no GPU)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(results: dict[str, Any], out: Path) -> None:
    """results.json, table.md and chart.png under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "table.md").write_text(table(results))
    chart(results, out / "chart.png")
