"""Webhooks end to end: a tabular worker, a webhooks worker and a real HTTP receiver."""
from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from standardwebhooks import Webhook, WebhookVerificationError

from models.store import ModelStore
from predq.embedded_redis import free_port
from tests.integration.conftest import _DATABASES, Stack, _database
from worker.settings import Settings, WebhookSettings

pytestmark = pytest.mark.integration

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
IRIS = [[6.7, 3.0, 5.2, 2.3]]


class Receiver:
    """An HTTP server in a thread that records every POST and answers the given statuses, then 200."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append((headers, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/predq"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="module")
def hooks(
    settings: Settings, model_store: ModelStore, tmp_path_factory: pytest.TempPathFactory,
    repo_root: Path,
) -> Iterator[Stack]:  # fmt: skip
    """A stack whose iris-svm is broken (its jobs fail), with tabular and webhooks workers."""
    root = tmp_path_factory.mktemp("store") / "store"
    shutil.copytree(model_store.root, root)
    (root / "iris-svm" / "1" / ModelStore(root).get("iris-svm").artifact).write_bytes(b"broken")
    url = _database(settings.redis_url, 1 + next(_DATABASES) % 15)
    redis.Redis.from_url(url).flushdb()
    webhooks = WebhookSettings(
        secret=SECRET, max_attempts=3, backoff=0.05, backoff_max=0.2, timeout=5, allow_private=True
    )
    tuned = dataclasses.replace(
        settings, redis_url=url, broker_url=url, model_dir=root, webhooks=webhooks
    )
    stack = Stack(tuned, tmp_path_factory.mktemp("logs"), repo_root)
    try:
        stack.start_worker("tabular")
        stack.start_worker("webhooks")
        yield stack
    finally:
        stack.close()


def submit(stack: Stack, model: str = "iris-tree", **fields: Any) -> str:
    response = stack.client.post(
        f"/v1/models/{model}/jobs", json={"instances": IRIS, **fields},
        headers={"Cache-Control": "no-store"},
    )  # fmt: skip
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def settled(stack: Stack, job_id: str, timeout: float = 30) -> dict[str, Any]:
    """The job once its webhook is delivered or given up."""
    deadline = time.monotonic() + timeout
    while (job := stack.client.get(f"/v1/jobs/{job_id}").get_json())["webhook"]["state"] not in (
        "delivered", "failed"
    ):  # fmt: skip
        assert time.monotonic() < deadline, f"the webhook of {job_id} never settled: {job}"
        time.sleep(0.05)
    return job


def owner_secret_from_cli(stack: Stack) -> str:
    """What an operator hands an owner: ``predq webhook-secret local`` (PREDQ_AUTH=none)."""
    return subprocess.run(
        [sys.executable, "-m", "predq", "webhook-secret", "local"],
        env={**os.environ, **stack.env()}, cwd=stack.repo_root,
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def test_a_finished_job_is_posted_signed_for_its_owner(hooks: Stack, receiver: Receiver) -> None:
    job_id = submit(hooks, webhook=receiver.url)
    job = settled(hooks, job_id)
    assert job["status"] == "succeeded" and job["webhook"]["state"] == "delivered"
    [attempt] = job["webhook"]["deliveries"]
    assert attempt["attempt"] == 1 and attempt["status_code"] == 200 and attempt["error"] is None

    [(headers, body)] = receiver.requests
    assert headers["webhook-id"] == job_id and headers["content-type"] == "application/json"
    secret = owner_secret_from_cli(hooks)
    delivered = Webhook(secret).verify(body, headers)
    del job["webhook"]
    assert delivered == job and delivered["result"][0]["class_name"] == "virginica"
    # The deployment's secret itself does not verify it: each owner has their own.
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"virginica", b"setosa"), headers)


def test_a_job_answered_from_the_cache_calls_its_webhook_too(
    hooks: Stack, receiver: Receiver
) -> None:
    rows = {"instances": [[5.9, 3.0, 5.1, 1.8]]}
    deadline = time.monotonic() + 30
    # The worker fills the cache just after the job ends: ask until it answers from there.
    while not hooks.client.post("/v1/models/iris-tree/jobs", json=rows).get_json()["cached"]:
        assert time.monotonic() < deadline, "the result cache never held the job's result"
        time.sleep(0.1)
    again = hooks.client.post(
        "/v1/models/iris-tree/jobs", json={**rows, "webhook": receiver.url}
    ).get_json()
    assert again["cached"]
    assert settled(hooks, again["id"])["webhook"]["state"] == "delivered"
    assert json.loads(receiver.requests[0][1])["id"] == again["id"]


def test_only_the_events_asked_for_are_sent(hooks: Stack, receiver: Receiver) -> None:
    quiet = submit(hooks, "iris-svm", webhook=receiver.url, webhook_events=["completed"])
    told = submit(hooks, "iris-svm", webhook=receiver.url, webhook_events=["failed"])
    failed = settled(hooks, told)
    assert failed["status"] == "failed" and failed["webhook"]["state"] == "delivered"
    unsent = hooks.wait(quiet)
    assert unsent["status"] == "failed"
    assert unsent["webhook"] == {
        "url": receiver.url, "events": ["completed"], "state": None, "deliveries": []
    }  # fmt: skip
    [(_, body)] = receiver.requests
    assert json.loads(body)["id"] == told
    assert json.loads(body)["error"]["code"] == "integrity_error"


def test_a_receiver_failing_twice_gets_three_attempts_logged(hooks: Stack) -> None:
    receiver = Receiver(statuses=(500, 500))
    try:
        job = settled(hooks, submit(hooks, webhook=receiver.url))
    finally:
        receiver.close()
    deliveries = job["webhook"]["deliveries"]
    assert [d["attempt"] for d in deliveries] == [1, 2, 3]
    assert [d["status_code"] for d in deliveries] == [500, 500, 200]
    assert [d["error"] for d in deliveries] == ["HTTP 500", "HTTP 500", None]
    assert all(d["next_retry_at"] >= d["at"] for d in deliveries[:2])
    assert "next_retry_at" not in deliveries[2] and job["webhook"]["state"] == "delivered"
    # Every attempt is the same message: same id and body, for receivers to drop duplicates.
    assert len({(h["webhook-id"], body) for h, body in receiver.requests}) == 1


def test_a_dead_receiver_leaves_the_result_fetchable(hooks: Stack) -> None:
    url = f"http://127.0.0.1:{free_port()}/gone"
    job = settled(hooks, submit(hooks, webhook=url))
    assert job["status"] == "succeeded" and job["result"][0]["class_name"] == "virginica"
    assert job["webhook"]["state"] == "failed"
    deliveries = job["webhook"]["deliveries"]
    assert [d["attempt"] for d in deliveries] == [1, 2, 3]  # PREDQ_WEBHOOK_MAX_ATTEMPTS
    assert all(d["status_code"] is None and "ConnectError" in d["error"] for d in deliveries)


def test_a_client_error_is_not_retried(hooks: Stack) -> None:
    receiver = Receiver(statuses=(410,))
    try:
        job = settled(hooks, submit(hooks, webhook=receiver.url))
    finally:
        receiver.close()
    assert job["webhook"]["state"] == "failed"
    assert [(d["status_code"], d["error"]) for d in job["webhook"]["deliveries"]] == [(410, "HTTP 410")]
    assert len(receiver.requests) == 1


def test_a_cancelled_upload_is_posted_when_asked_for(
    hooks: Stack, receiver: Receiver, digit_pngs: list[tuple[bytes, int]]
) -> None:
    # No vision worker in this stack: the job stays queued until it is cancelled.
    data = {
        "image": (io.BytesIO(digit_pngs[0][0]), "a.png"),
        "webhook": receiver.url,
        "webhook_events": "cancelled",
    }
    job_id = hooks.client.post("/v1/models/digits-cnn/jobs", data=data).get_json()["id"]
    assert hooks.client.delete(f"/v1/jobs/{job_id}").status_code == 200
    assert settled(hooks, job_id)["webhook"]["state"] == "delivered"
    [(_, body)] = receiver.requests
    assert json.loads(body)["status"] == "cancelled" and json.loads(body)["id"] == job_id
