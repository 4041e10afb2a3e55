"""Webhooks asked for on submit: what the API accepts and what it refuses (422)."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from worker.settings import WebhookSettings

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
IRIS = [[5.1, 3.5, 1.4, 0.2]]


@pytest.fixture
def client(keyed_client: Callable[..., FlaskClient]) -> FlaskClient:
    return keyed_client(webhooks=WebhookSettings(secret=SECRET))


def submit(client: FlaskClient, headers: dict[str, str], **fields: Any) -> Any:
    return client.post("/v1/models/iris-tree/jobs", json={"instances": IRIS, **fields}, headers=headers)


def test_a_webhook_is_on_the_job_until_the_job_ends(
    client: FlaskClient, bearer: Callable[[str], dict[str, str]]
) -> None:
    response = submit(client, bearer("alice"), webhook="https://hooks.example.com/predq")
    assert response.status_code == 202
    assert response.get_json()["webhook"] == {
        "url": "https://hooks.example.com/predq",
        "events": ["completed", "failed"],
        "state": None,
        "deliveries": [],
    }
    plain = submit(client, bearer("alice")).get_json()
    assert plain["webhook"] is None


def test_events_can_be_chosen_and_include_cancelled(
    client: FlaskClient, bearer: Callable[[str], dict[str, str]]
) -> None:
    response = submit(
        client, bearer("alice"), webhook="http://hooks.example.com:8080/x?a=1",
        webhook_events=["cancelled", "failed", "cancelled"],
    )  # fmt: skip
    assert response.status_code == 202
    assert response.get_json()["webhook"]["events"] == ["cancelled", "failed"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"webhook": "ftp://hooks.example.com/x"}, "http:// or https://"),
        ({"webhook": "javascript:alert(1)"}, "http:// or https://"),
        ({"webhook": "hooks.example.com/x"}, "http:// or https://"),
        ({"webhook": "http://:80/x"}, "http:// or https://"),
        ({"webhook": "http://hooks.example.com:99999/"}, "not a valid URL"),
        ({"webhook": "https://user:pw@hooks.example.com/"}, "credentials"),
        ({"webhook": "https://hooks.example.com/" + "a" * 2048}, "longer than"),
        ({"webhook": 42}, "URL string"),
        ({"webhook": "https://hooks.example.com/", "webhook_events": ["done"]}, "done"),
        ({"webhook": "https://hooks.example.com/", "webhook_events": []}, "must name some"),
        ({"webhook": "https://hooks.example.com/", "webhook_events": "completed"}, "list"),
        ({"webhook_events": ["completed"]}, "needs a 'webhook'"),
        # Loopback, private and link-local (cloud metadata) addresses.
        ({"webhook": "http://127.0.0.1:8000/"}, "private address"),
        ({"webhook": "http://10.1.2.3/"}, "private address"),
        ({"webhook": "http://169.254.169.254/latest/meta-data"}, "private address"),
        ({"webhook": "http://[::ffff:127.0.0.1]/"}, "private address"),
    ],
)
def test_a_bad_webhook_is_refused_with_422(
    client: FlaskClient, bearer: Callable[[str], dict[str, str]], fields: dict[str, Any], message: str
) -> None:
    response = submit(client, bearer("alice"), **fields)
    assert response.status_code == 422, response.get_json()
    assert message in response.get_json()["error"]["message"]


def test_multipart_uploads_take_webhook_form_fields(
    client: FlaskClient, bearer: Callable[[str], dict[str, str]], digit_pngs: list[tuple[bytes, int]]
) -> None:
    def upload(**form: Any) -> Any:
        data = {"image": (io.BytesIO(digit_pngs[0][0]), "a.png"), **form}
        return client.post("/v1/models/digits-cnn/jobs", data=data, headers=bearer("alice"))

    accepted = upload(webhook="https://hooks.example.com/x", webhook_events="completed, cancelled")
    assert accepted.status_code == 202
    assert accepted.get_json()["webhook"]["events"] == ["completed", "cancelled"]
    refused = upload(webhook="file:///etc/passwd")
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "invalid_webhook"
    assert upload(webhook="https://hooks.example.com/x", webhook_events="later").status_code == 422


def test_webhooks_are_refused_where_no_secret_signs_them(
    keyed_client: Callable[..., FlaskClient], bearer: Callable[[str], dict[str, str]]
) -> None:
    response = submit(keyed_client(), bearer("alice"), webhook="https://hooks.example.com/")
    assert response.status_code == 422
    assert "PREDQ_WEBHOOK_SECRET" in response.get_json()["error"]["message"]


def test_only_allowed_hosts_when_an_allow_list_is_set(
    keyed_client: Callable[..., FlaskClient], bearer: Callable[[str], dict[str, str]]
) -> None:
    allowed = WebhookSettings(secret=SECRET, allowed_hosts=("hooks.example.com", "*.corp.example"))
    client = keyed_client(webhooks=allowed)
    for url, status in [
        ("https://hooks.example.com/x", 202),
        ("https://a.b.corp.example/x", 202),
        ("https://corp.example.evil.com/x", 422),
        ("https://example.com/x", 422),
    ]:
        assert submit(client, bearer("alice"), webhook=url).status_code == status, url


def test_private_addresses_can_be_allowed(
    keyed_client: Callable[..., FlaskClient], bearer: Callable[[str], dict[str, str]]
) -> None:
    client = keyed_client(webhooks=WebhookSettings(secret=SECRET, allow_private=True))
    assert submit(client, bearer("alice"), webhook="http://127.0.0.1:9/").status_code == 202
