"""/metrics: open to Prometheus without an API key, never rate limited, optionally behind a token."""
from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families


def test_metrics_need_no_api_key_and_are_not_rate_limited(
    keyed_client: Callable[..., FlaskClient],
) -> None:
    client = keyed_client(PREDQ_RATE_LIMIT="2 per minute")
    responses = [client.get("/metrics") for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    names = {f.name for f in text_string_to_metric_families(responses[-1].get_data(as_text=True))}
    assert {"predq_redis_up", "predq_queue_depth", "predq_workers", "predq_jobs_finished",
            "predq_jobs_submitted", "predq_pending_chunks"} <= names  # fmt: skip


def test_a_metrics_token_is_required_when_configured(
    keyed_client: Callable[..., FlaskClient], bearer: Callable[[str], dict[str, str]]
) -> None:
    client = keyed_client(PREDQ_METRICS_TOKEN="scrape-secret")
    for headers in ({}, {"Authorization": "Bearer wrong"}, bearer("alice")):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}).status_code == 200
