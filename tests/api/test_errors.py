"""Every bad request gets a clear JSON error before anything is queued."""
from __future__ import annotations

import io
import json

import pytest
from flask.testing import FlaskClient
from PIL import Image

from api import create_app
from worker.settings import Settings

IRIS = "/v1/models/iris-tree/jobs"
DIGITS = "/v1/models/digits-cnn/jobs"


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return error


def png(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({"instances": [[1, 2, 3]]}, 422, "invalid_input", "has 3 features"),
        ({"instances": [[1, 2, 3, "four"]]}, 422, "invalid_input", "not a number"),
        ({"instances": []}, 422, "invalid_input", "non-empty"),
        ({"instances": [[1, 2, 3, 1e308 * 10]]}, 400, "malformed_request", "Infinity"),
        ({"instances": [[1, 2, 3, 4]], "colour": "red"}, 422, "invalid_input", "colour"),
        ({}, 422, "invalid_input", "instances"),
        ([[1, 2, 3, 4]], 422, "invalid_input", "object"),
        ({"instances": [[1, 2, 3, 4]], "version": "9"}, 404, "unknown_model", "no version"),
    ],
)
def test_bad_tabular_input(client: FlaskClient, body: object, status: int, code: str, message: str) -> None:
    response = client.post(IRIS, data=json.dumps(body), content_type="application/json")
    assert message in assert_error(response, status, code)["message"]


@pytest.mark.parametrize("raw", [b'{"instances": [[NaN, 1, 2, 3]]}', b'{"instances": [[1, 2', b"[" * 100_000])
def test_malformed_json_is_400(client: FlaskClient, raw: bytes) -> None:
    assert_error(client.post(IRIS, data=raw, content_type="application/json"), 400, "malformed_request")


def test_json_needs_a_json_content_type(client: FlaskClient) -> None:
    response = client.post(IRIS, data='{"instances": [[1,2,3,4]]}', content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_unknown_model_is_404(client: FlaskClient) -> None:
    response = client.post("/v1/models/nope/jobs", json={"instances": [[1, 2, 3, 4]]})
    assert_error(response, 404, "unknown_model")
    assert_error(client.get("/v1/models/nope"), 404, "unknown_model")


def test_unknown_job_is_404_for_read_wait_and_cancel(client: FlaskClient) -> None:
    assert_error(client.get("/v1/jobs/no-such-job"), 404, "unknown_job")
    assert_error(client.get("/v1/jobs/no-such-job?wait=1"), 404, "unknown_job")
    assert_error(client.delete("/v1/jobs/no-such-job"), 404, "unknown_job")


@pytest.mark.parametrize("wait", ["soon", "-1", "31", "nan"])
def test_bad_wait_is_400(client: FlaskClient, wait: str) -> None:
    assert_error(client.get(f"/v1/jobs/x?wait={wait}"), 400, "malformed_request")


def test_not_an_image_is_422_naming_the_part(client: FlaskClient) -> None:
    data = {"image": [(io.BytesIO(png()), "ok.png"), (io.BytesIO(b"hello"), "notes.txt")]}
    error = assert_error(client.post(DIGITS, data=data), 422, "invalid_image")
    assert "image 1 (notes.txt)" in error["message"]
    assert_error(client.post("/classify", data={"image": (io.BytesIO(b"GIF89a"), "x.gif")}), 422, "invalid_image")


def test_upload_without_image_parts_is_422(client: FlaskClient) -> None:
    assert_error(client.post(DIGITS, data={"file": (io.BytesIO(png()), "a.png")}), 422, "invalid_input")
    assert_error(client.post(DIGITS, data={"version": "1"}, content_type="multipart/form-data"), 422, "invalid_input")


def test_images_to_a_tabular_model_and_json_to_an_image_model_are_415(client: FlaskClient) -> None:
    assert_error(client.post(IRIS, data={"image": (io.BytesIO(png()), "a.png")}), 415, "unsupported_media_type")
    assert_error(client.post(DIGITS, json={"instances": [[1]]}), 415, "unsupported_media_type")


def test_decompression_bomb_is_413(client: FlaskClient) -> None:
    bomb = png((10_000, 5_000))  # 50 Mpx above the 40 Mpx default, ~50 kB on the wire
    response = client.post(DIGITS, data={"image": (io.BytesIO(bomb), "bomb.png")})
    assert_error(response, 413, "image_too_large")


def test_body_over_the_size_limit_is_413(settings: Settings) -> None:
    client = create_app({"PREDQ_SETTINGS": settings, "PREDQ_AUTH": "none", "MAX_CONTENT_LENGTH": 1000}).test_client()
    response = client.post(IRIS, json={"instances": [[1.0, 2.0, 3.0, 4.0]] * 100})
    assert_error(response, 413, "request_entity_too_large")


def test_too_many_multipart_parts_is_413(settings: Settings) -> None:
    client = create_app({"PREDQ_SETTINGS": settings, "PREDQ_AUTH": "none", "MAX_FORM_PARTS": 5}).test_client()
    data = {"image": [(io.BytesIO(png()), f"{i}.png") for i in range(10)]}
    assert_error(client.post(DIGITS, data=data), 413, "request_entity_too_large")


def test_routes_and_methods_that_do_not_exist_answer_json(client: FlaskClient) -> None:
    assert_error(client.get("/v2/anything"), 404, "not_found")
    assert_error(client.put("/v1/jobs/x"), 405, "method_not_allowed")


def test_redis_down_is_503_with_retry_after(settings: Settings) -> None:
    dead = "redis://127.0.0.1:1/0"
    down = Settings(redis_url=dead, broker_url=dead, model_dir=settings.model_dir)
    client = create_app({"PREDQ_SETTINGS": down, "PREDQ_AUTH": "none"}).test_client()
    response = client.post(IRIS, json={"instances": [[5.1, 3.5, 1.4, 0.2]]})
    assert_error(response, 503, "broker_unavailable")
    assert response.headers["Retry-After"]
    assert_error(client.get("/v1/jobs/some-id"), 503, "broker_unavailable")
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["ready"] is False
    assert client.get("/healthz").status_code == 200
