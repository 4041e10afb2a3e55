"""Retries: a rate-limited server still serves every request, after waiting as told."""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest

from client import Client, JobStatus, NotFound, RateLimited
from client.transport import _seconds
from tests.client.conftest import api_server, keys_env
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration
SETOSA = [5.1, 3.5, 1.4, 0.2]


@pytest.fixture(scope="module")
def limited_url(client_stack: Stack, api_key: str) -> Iterator[str]:
    """A server that lets each key make two requests a second."""
    with api_server(client_stack, PREDQ_RATE_LIMIT="2 per second", **keys_env(api_key)) as url:
        yield url


def test_rate_limited_requests_are_retried_after_retry_after(
    limited_url: str, api_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="client.transport")
    with Client(limited_url, api_key=api_key, max_retries=20) as client:
        jobs = [client.predict("iris-svm", [SETOSA], timeout=60) for _ in range(5)]
    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 5
    assert len({job.id for job in jobs}) == 5  # a retried submit made no second job
    retries = [r for r in caplog.records if "429 too_many_requests" in r.getMessage()]
    assert retries, "the server never limited the client; nothing was tested"
    assert all(r.sleep >= 1 for r in retries)  # type: ignore[attr-defined]  # the server's Retry-After


def test_out_of_retries_is_a_rate_limited_error(limited_url: str, api_key: str) -> None:
    with Client(limited_url, api_key=api_key, max_retries=0) as client:
        with pytest.raises(RateLimited) as raised:
            for _ in range(10):
                with contextlib.suppress(NotFound):
                    client.get("no-such-job")
    assert raised.value.status == 429 and raised.value.code == "too_many_requests"


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert _seconds("3") == 3.0
    assert 5 <= _seconds(formatdate(time.time() + 10, usegmt=True)) <= 10  # type: ignore[operator]
    assert _seconds(formatdate(time.time() - 60, usegmt=True)) == 0.0
    assert _seconds("soon") is None
