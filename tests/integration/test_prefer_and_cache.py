"""``Prefer: wait=N`` on submit, and the result cache, through real workers."""
from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration
VERSICOLOR = [6.0, 2.9, 4.5, 1.5]


def test_prefer_wait_answers_200_with_the_finished_job(stack: Stack) -> None:
    response = stack.client.post(
        "/v1/models/iris-logreg/jobs",
        json={"instances": [VERSICOLOR, [5.0, 3.4, 1.5, 0.2]]},
        headers={"Prefer": "wait=20", "Cache-Control": "no-store"},
    )
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == "wait=20"
    job = response.get_json()
    assert response.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] == "succeeded" and not job["cached"]
    assert [r["class_name"] for r in job["result"]] == ["versicolor", "setosa"]


def test_prefer_wait_is_capped_and_falls_back_to_202(isolated_stack: Stack) -> None:
    # No worker consumes this stack's queues, so the job cannot finish.
    response = isolated_stack.client.post(
        "/predict", json={"instances": [VERSICOLOR]}, headers={"Prefer": "wait=0.2"}
    )
    assert response.status_code == 202 and response.get_json()["status"] == "queued"
    assert response.headers["Preference-Applied"] == "wait=0.2"
    capped = isolated_stack.client.post(
        "/predict", json={"instances": [VERSICOLOR]}, headers={"Prefer": "wait=0.1, wait=999"}
    )
    assert capped.status_code == 202


@pytest.mark.parametrize("prefer", ["respond-async", "wait=soon", "wait=-1", "wait=nan"])
def test_unusable_prefer_is_ignored(isolated_stack: Stack, prefer: str) -> None:
    response = isolated_stack.client.post(
        "/predict", json={"instances": [VERSICOLOR]}, headers={"Prefer": prefer}
    )
    assert response.status_code == 202 and "Preference-Applied" not in response.headers


def test_prefer_wait_above_the_limit_is_capped(isolated_stack: Stack) -> None:
    isolated_stack.client.application.config["PREDQ_MAX_WAIT"] = 0.3
    response = isolated_stack.client.post(
        "/predict", json={"instances": [VERSICOLOR]}, headers={"Prefer": "wait=600"}
    )
    assert response.status_code == 202
    assert response.headers["Preference-Applied"] == "wait=0.3"


def _cache_counts(stack: Stack, ref: str) -> dict[str, int]:
    return stack.client.get("/v1/cache").get_json()["models"].get(ref, {"hits": 0, "misses": 0})


def test_repeated_rows_are_answered_from_the_cache(
    stack_factory: Callable[..., Stack],
) -> None:
    stack = stack_factory()
    stack.start_worker("tabular")
    body = {"instances": [[6.3, 3.3, 6.0, 2.5], VERSICOLOR]}
    first = stack.client.post("/v1/models/iris-svm/jobs", json=body)
    done = stack.wait(first.get_json()["id"])
    assert done["status"] == "succeeded" and not done["cached"]

    again = stack.client.post("/v1/models/iris-svm/jobs", json=body, headers={"Prefer": "wait=5"})
    assert again.status_code == 200
    hit = again.get_json()
    assert hit["id"] != done["id"] and hit["cached"] and hit["status"] == "succeeded"
    assert hit["result"] == done["result"] and hit["progress"] == {"done": 2, "total": 2}
    assert stack.client.get(f"/v1/jobs/{hit['id']}").get_json() == hit
    assert _cache_counts(stack, "iris-svm@1") == {"hits": 1, "misses": 1}

    # Other rows, or another model, are misses.
    other = stack.client.post("/v1/models/iris-svm/jobs", json={"instances": [VERSICOLOR]})
    assert not other.get_json()["cached"]
    fresh = stack.client.post(
        "/v1/models/iris-svm/jobs", json=body, headers={"Cache-Control": "no-cache"}
    )
    assert fresh.status_code == 202 and not fresh.get_json()["cached"]
    assert stack.wait(fresh.get_json()["id"])["result"] == done["result"]
    assert _cache_counts(stack, "iris-svm@1") == {"hits": 1, "misses": 2}


def test_repeated_images_are_answered_from_the_cache(
    stack_factory: Callable[..., Stack], digit_pngs: list[tuple[bytes, int]]
) -> None:
    stack = stack_factory()
    stack.start_worker("vision")

    def upload(pngs: list[bytes]) -> dict:
        files = [(io.BytesIO(png), f"{i}.png") for i, png in enumerate(pngs)]
        response = stack.client.post(
            "/v1/models/digits-cnn/jobs", data={"image": files}, headers={"Prefer": "wait=20"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    pngs = [png for png, _ in digit_pngs[:3]]
    first, second = upload(pngs), upload(pngs)
    assert not first["cached"] and second["cached"]
    assert second["result"] == first["result"]
    # The same images in another order are another input.
    assert not upload(pngs[::-1])["cached"]


def test_a_failed_job_is_not_cached(
    stack_factory: Callable[..., Stack], digit_pngs: list[tuple[bytes, int]]
) -> None:
    stack = stack_factory()
    stack.start_worker("vision")
    truncated = digit_pngs[0][0][:60]  # a valid PNG header: only the worker finds it corrupt

    def upload() -> dict:
        data = {"image": (io.BytesIO(truncated), "bad.png")}
        return stack.client.post("/classify", data=data, headers={"Prefer": "wait=20"}).get_json()

    first, again = upload(), upload()
    assert first["status"] == again["status"] == "failed"
    assert not again["cached"]


def test_cache_ttl_zero_turns_the_cache_off(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory(cache_ttl=0)
    stack.start_worker("tabular")
    body = {"instances": [VERSICOLOR]}
    jobs = [stack.client.post("/predict", json=body, headers={"Prefer": "wait=20"}) for _ in "ab"]
    assert [j.get_json()["cached"] for j in jobs] == [False, False]
    assert stack.client.get("/v1/cache").get_json() == {"enabled": False, "ttl": 0, "models": {}}
