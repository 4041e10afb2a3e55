"""Flower, Celery's monitor, sees predq's workers and tasks."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from predq.embedded_redis import free_port
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


ROW = {"instances": [[5.1, 3.5, 1.4, 0.2]]}
AUTH = "Basic " + base64.b64encode(b"ops:flower-test-password").decode()


def _get(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": AUTH})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def test_flower_lists_the_workers_and_their_tasks(stack: Stack) -> None:
    port = free_port()
    flower = subprocess.Popen(
        [sys.executable, "-m", "celery", f"--broker={stack.settings.broker_url}", "flower",
         f"--port={port}", "--address=127.0.0.1", "--basic-auth=ops:flower-test-password"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        workers: dict[str, Any] = {}
        while not any(name.startswith("tabular") for name in workers):
            assert time.monotonic() < deadline and flower.poll() is None, "flower saw no worker"
            try:
                workers = _get(f"{base}/api/workers?refresh=1")
            except OSError:
                time.sleep(0.5)
        while not any(t.get("name") == "predq.predict_rows" for t in _get(f"{base}/api/tasks").values()):
            assert time.monotonic() < deadline, "flower saw no task: are task events enabled?"
            job = stack.client.post("/predict", json=ROW, headers={"Cache-Control": "no-cache"})
            assert stack.wait(job.get_json()["id"])["status"] == "succeeded"
            time.sleep(0.5)
    finally:
        flower.terminate()
        flower.wait(timeout=30)
