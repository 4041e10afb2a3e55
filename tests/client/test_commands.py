"""``predq submit``, ``status`` and ``classify`` run as a user runs them, against the server."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def predq_cli(server_url: str, api_key: str, repo_root: Path) -> Run:
    """Runs ``predq ARGS`` with the server and a key in the environment, as a user sets them."""

    def run(*args: str, key: str = api_key) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PREDQ_URL": server_url, "PREDQ_API_KEY": key}
        return subprocess.run(
            [sys.executable, "-m", "predq", *args],
            cwd=repo_root, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    return run


def test_classify_writes_a_csv_row_per_image(predq_cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    ran = predq_cli("classify", "examples/digits", "--out", str(out), "--chunk-size", "4")
    assert ran.returncode == 0, ran.stderr
    assert "10 of 10 images classified" in ran.stderr
    with out.open(newline="") as rows:
        table = list(csv.DictReader(rows))
    assert [Path(row["path"]).name for row in table] == [f"{i}.png" for i in range(10)]
    assert [row["label"] for row in table] == [str(i) for i in range(10)]
    assert all(row["class_name"] == row["label"] and row["error"] == "" for row in table)
    assert all(0 < float(row["confidence"]) <= 1 for row in table)


def test_submit_prints_the_job_and_status_waits_for_it(predq_cli: Run) -> None:
    submitted = predq_cli("submit", "iris-svm", "--file", "examples/iris.json")
    assert submitted.returncode == 0, submitted.stderr
    job_id = json.loads(submitted.stdout)["id"]
    status = predq_cli("status", job_id, "--wait", "30")
    assert status.returncode == 0, status.stderr
    job = json.loads(status.stdout)
    assert job["status"] == "succeeded"
    assert [item["class_name"] for item in job["result"]] == ["setosa", "virginica"]


def test_submit_takes_inline_json(predq_cli: Run) -> None:
    submitted = predq_cli("submit", "iris-tree", "--json", '{"instances": [[5.1, 3.5, 1.4, 0.2]]}')
    assert submitted.returncode == 0, submitted.stderr
    assert json.loads(submitted.stdout)["model"] == "iris-tree@1"


def test_errors_are_reported_with_the_server_code(predq_cli: Run) -> None:
    unknown = predq_cli("status", "no-such-job")
    assert unknown.returncode == 1 and "404 unknown_job" in unknown.stderr
    wrong_key = predq_cli("status", "no-such-job", key="pq_wrong")
    assert wrong_key.returncode == 1 and "401 unauthorized" in wrong_key.stderr
    no_folder = predq_cli("classify", "no-such-folder", "--out", "never.csv")
    assert no_folder.returncode == 1 and "no-such-folder is not a folder" in no_folder.stderr
