"""Each predq figure as a ratio to the baselines and the raw ceiling, and
issue #3's targets checked against them."""
from __future__ import annotations

from typing import Any

from bench.scenarios import BASELINES, BATCH_JOB, IRIS, SINGLE_IMAGES, Sizes

CEILING = "raw ceiling"
CEILING_DECODING = "raw ceiling with decoding"


def _ratio(value: float | None, other: float | None) -> float | None:
    # Three significant digits: iris jobs/s is a tiny share of the ceiling's rows/s.
    return float(f"{value / other:.3g}") if value and other else None


def _find(runs: list[dict[str, Any]], scenario: str, system: str,
          clients: int | None = None) -> dict[str, Any] | None:
    for run in runs:
        if run["scenario"] == scenario and run["system"] == system and (
            clients is None or run["clients"] == clients
        ):
            return run
    return None


def figures(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every predq throughput and p50, with its ratio to the same figure of
    each baseline (same scenario and clients) and to the raw ceiling."""
    runs, ceiling = results["runs"], results["ceiling"]
    images = ceiling["digits-cnn"]
    out = []
    for run in runs:
        if not run["system"].startswith("predq") or run["scenario"] not in (
            IRIS, SINGLE_IMAGES, BATCH_JOB
        ):
            continue
        iris = run["scenario"] == IRIS
        name = f"{run['scenario']}, {run['clients']} clients, {run['system']}"
        metrics = {"jobs/s" if iris else "images/s": "items_per_s", "p50 ms": None}
        for metric, key in metrics.items():
            value = run[key] if key else run["latency_ms"]["p50"]
            vs = {}
            for baseline in BASELINES:
                other = _find(runs, run["scenario"], baseline, run["clients"])
                if other is not None:
                    vs[baseline] = _ratio(value, other[key] if key else other["latency_ms"]["p50"])
            if key and iris:
                vs[CEILING] = _ratio(value, ceiling["iris-tree"]["per_s"])
            elif key:
                vs[CEILING] = _ratio(value, images["per_s"])
                vs[CEILING_DECODING] = _ratio(value, images["with_decoding_per_s"])
            out.append({"figure": name, "metric": metric, "value": value, "vs": vs})
    return out


def targets(results: dict[str, Any], sizes: Sizes) -> list[dict[str, Any]]:
    """Issue #3's targets: the ratio each names, measured, and whether it is met."""
    by_name = {(f["figure"], f["metric"]): f["vs"] for f in results["ratios"]}
    n, jobs, batch = sizes.target_clients, sizes.image_jobs, sizes.batch_images
    iris_wait = f"{IRIS}, {n} clients, predq-wait"
    wanted = [
        (f"iris, {n} clients: predq `Prefer: wait` jobs/s >= 1.0x sync Flask",
         (iris_wait, "jobs/s"), "sync-flask", 1.0, True),
        (f"iris, {n} clients: predq `Prefer: wait` jobs/s >= 3x Flask + Celery",
         (iris_wait, "jobs/s"), "flask-celery", 3.0, True),
        ("iris, 1 client: predq `Prefer: wait` p50 <= 2x sync Flask's",
         (f"{IRIS}, 1 clients, predq-wait", "p50 ms"), "sync-flask", 2.0, False),
        (f"{jobs:,} single-image jobs: predq images/s >= 5x Flask + Celery",
         (f"{SINGLE_IMAGES}, {sizes.image_clients} clients, predq-wait", "images/s"),
         "flask-celery", 5.0, True),
        (f"one {batch:,}-image batch job: predq images/s >= 0.5x raw ceiling with decoding",
         (f"{BATCH_JOB}, 1 clients, predq-wait", "images/s"), CEILING_DECODING, 0.5, True),
    ]  # fmt: skip
    out = []
    for text, figure, against, threshold, at_least in wanted:
        measured = by_name.get(figure, {}).get(against)
        met = None if measured is None else (
            measured >= threshold if at_least else measured <= threshold
        )
        out.append({"target": text, "threshold": threshold, "at_least": at_least,
                    "measured": measured, "met": met})
    return out
