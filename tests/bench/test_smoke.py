"""The benchmark's smoke mode runs every system end to end and writes its results."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_bench_smoke_writes_results(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=repo_root, check=True, timeout=240, capture_output=True,
    )  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    assert {"machine", "runs", "worker_peak_rss_mib", "smoke", "elapsed_s"} <= set(results)
    systems = {run["system"] for run in results["runs"]}
    assert {"sync-flask", "flask-celery", "predq"} <= systems
    for run in results["runs"]:
        keys = {"scenario", "clients", "requests", "errors", "throughput_rps", "latency_ms"}
        assert keys <= set(run)
        assert run["errors"] == 0 and run["requests"] > 0
        assert set(run["latency_ms"]) == {"p50", "p95", "p99"}
    assert set(results["worker_peak_rss_mib"]) == {"worker-tabular", "worker-vision"}
    assert all(mib > 0 for mib in results["worker_peak_rss_mib"]["worker-vision"].values())
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| scenario | system |" in (out / "table.md").read_text()
