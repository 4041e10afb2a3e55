"""The benchmark's smoke mode runs every scenario on every system end to end
and writes its results, ratios and targets (never checking a timing)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scenarios import BASELINES, BATCH_JOB, CLIENTS, IRIS, IRIS_CACHED, SINGLE_IMAGES, SMOKE

pytestmark = pytest.mark.integration


def test_bench_smoke_writes_results(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    bench = subprocess.Popen(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=repo_root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        output, _ = bench.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        bench.terminate()  # SIGTERM: the benchmark stops the systems it started
        output, _ = bench.communicate(timeout=60)
    assert bench.returncode == 0, output[-3000:]
    results = json.loads((out / "results.json").read_text())
    keys = {"machine", "sizes", "runs", "ceiling", "ratios", "targets", "worker_peak_rss_mib"}
    assert keys | {"smoke", "elapsed_s"} <= set(results)

    measured = {(run["scenario"], run["system"], run["clients"]) for run in results["runs"]}
    iris_clients = set(CLIENTS) - {"predq-nobatch-wait"}
    expected = {(IRIS, client, n) for client in iris_clients for n in SMOKE.iris_clients}
    expected |= {(IRIS_CACHED, "predq-wait", SMOKE.target_clients)}
    expected |= {(SINGLE_IMAGES, client, SMOKE.image_clients) for client in CLIENTS
                 if client not in ("predq-poll", "predq-longpoll")}  # fmt: skip
    expected |= {(BATCH_JOB, client, 1) for client in (*BASELINES, "predq-wait")}
    assert measured == expected
    for run in results["runs"]:
        assert run["errors"] == 0 and run["jobs"] > 0
        assert set(run["latency_ms"]) == {"p50", "p95", "p99"}
    batch = next(run for run in results["runs"] if run["scenario"] == BATCH_JOB)
    assert batch["jobs"] == 1 and batch["items_per_s"] > 0

    assert results["ceiling"]["iris-tree"]["per_s"] > 0
    assert results["ceiling"]["digits-cnn"]["with_decoding_per_s"] > 0
    # Every predq figure has a ratio to each baseline and to the raw ceiling.
    ratios = {(f["figure"], f["metric"]): f["vs"] for f in results["ratios"]}
    wait = ratios[(f"{SINGLE_IMAGES}, {SMOKE.image_clients} clients, predq-wait", "images/s")]
    assert set(wait) == {*BASELINES, "raw ceiling", "raw ceiling with decoding"}
    assert all(ratio > 0 for ratio in wait.values())
    iris = ratios[(f"{IRIS}, {SMOKE.target_clients} clients, predq-poll", "jobs/s")]
    assert set(iris) == {*BASELINES, "raw ceiling"}
    assert len(results["targets"]) == 5
    assert all(target["met"] in (True, False) for target in results["targets"])

    assert set(results["worker_peak_rss_mib"]) == {"worker-tabular", "worker-vision"}
    assert all(mib > 0 for mib in results["worker_peak_rss_mib"]["worker-vision"].values())
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "table.md").read_text()
    assert "| target | measured | met? |" in table and "| scenario | system |" in table
