"""The page at ``/``: public, asks for a key only when the server needs one."""
from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient


def test_the_page_needs_no_key_and_asks_for_one(keyed_client: Callable[..., FlaskClient]) -> None:
    response = keyed_client().get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'data-auth-required="true"' in page
    assert 'id="key-field">' in page
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_without_auth_the_key_field_is_hidden(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'data-auth-required="false"' in page
    assert 'id="key-field" hidden' in page
    assert 'data-default-model="digits-cnn"' in page


def test_scripts_and_styles_are_served_from_the_app(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    for path, mimetype in [
        ("/web/page.js", "text/javascript"),
        ("/web/api.js", "text/javascript"),
        ("/web/results.js", "text/javascript"),
        ("/web/page.css", "text/css"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == mimetype
    assert 'src="/web/page.js"' in page and 'href="/web/page.css"' in page


def test_the_page_is_not_rate_limited(keyed_client: Callable[..., FlaskClient]) -> None:
    client = keyed_client(PREDQ_RATE_LIMIT="2 per minute")
    assert all(client.get("/").status_code == 200 for _ in range(5))
    assert client.get("/v1/models").status_code == 200
    assert client.get("/v1/models").status_code == 200
    assert client.get("/v1/models").status_code == 429
