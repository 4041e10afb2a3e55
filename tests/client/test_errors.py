"""Refusals become typed exceptions carrying the server's error code and message."""
from __future__ import annotations

import pytest

from client import ApiError, Client, ConnectionFailed, InvalidRequest, NotFound, PredqError, Unauthorized
from predq.embedded_redis import free_port

pytestmark = pytest.mark.integration


def test_an_unknown_job_is_not_found(predq: Client) -> None:
    with pytest.raises(NotFound) as raised:
        predq.get("no-such-job")
    assert raised.value.status == 404 and raised.value.code == "unknown_job"
    assert isinstance(raised.value, PredqError)


def test_an_unknown_model_is_not_found(predq: Client) -> None:
    with pytest.raises(NotFound) as raised:
        predq.submit("no-such-model", instances=[[1.0]])
    assert raised.value.code == "unknown_model"


def test_a_wrong_key_is_unauthorized(server_url: str) -> None:
    with Client(server_url, api_key="pq_not-a-key") as client, pytest.raises(Unauthorized) as raised:
        client.submit("iris-svm", instances=[[5.1, 3.5, 1.4, 0.2]])
    assert raised.value.status == 401 and raised.value.code == "unauthorized"


def test_bad_rows_are_an_invalid_request_with_the_server_message(predq: Client) -> None:
    with pytest.raises(InvalidRequest) as raised:
        predq.submit("iris-svm", instances=[[1.0, 2.0]])
    assert raised.value.status == 422 and raised.value.code == "invalid_input"
    assert "4" in raised.value.message  # the feature count the model takes


def test_images_sent_to_a_tabular_model_are_refused(predq: Client) -> None:
    with pytest.raises(ApiError) as raised:
        predq.submit("iris-svm", images=[b"\x89PNG\r\n\x1a\n"])
    assert raised.value.status == 415


def test_no_server_is_a_connection_error_after_retrying() -> None:
    with Client(f"http://127.0.0.1:{free_port()}", max_retries=1, max_backoff=0.1) as client:
        with pytest.raises(ConnectionFailed):
            client.get("anything")
