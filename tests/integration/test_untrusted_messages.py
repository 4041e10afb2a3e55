"""Workers deserialise JSON only: a pickled message is refused and runs nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import Stack
from worker.config import PREDICT_ROWS
from worker.settings import TABULAR_QUEUE

pytestmark = pytest.mark.integration


def test_pickled_message_is_rejected_without_running_anything(
    isolated_stack: Stack, pickle_payload: tuple[object, Path]
) -> None:
    payload, marker = pickle_payload
    isolated_stack.celery.send_task(
        PREDICT_ROWS, args=[payload], serializer="pickle", queue=TABULAR_QUEUE
    )
    worker = isolated_stack.start_worker("tabular")
    # Queued behind the pickle: once it is done, the pickle has been dealt with.
    job = isolated_stack.client.post("/predict", json={"instances": [[5.1, 3.5, 1.4, 0.2]]})
    assert isolated_stack.wait(job.get_json()["id"])["status"] == "succeeded"
    assert not marker.exists()
    assert worker.poll() is None
    log = "".join(p.read_text() for p in isolated_stack.logs.glob("*.log"))
    assert "ContentDisallowed" in log or "untrusted content" in log
