"""The page at ``/`` in headless Chromium, against a served API and real workers.

Needs Debian's ``chromium`` (``apt-get install chromium``) driven by
Playwright; without it the tests skip, unless ``PREDQ_REQUIRE_BROWSER=1``
(CI) makes that a failure.
"""
from __future__ import annotations

import csv
import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from werkzeug.serving import make_server

from api import create_app
from api.auth import hash_key
from models import ModelStore
from models.serving import LoadedModels, ServingOptions
from tests.integration.conftest import Stack

CHROMIUM = Path("/usr/bin/chromium")
KEY = "pq_page_test_key"
REQUIRED = os.environ.get("PREDQ_REQUIRE_BROWSER") == "1"


def _missing() -> str | None:
    """Why the browser cannot run here, if it cannot."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: apt-get install chromium to run the page's tests"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed: pip install -e '.[test]'"
    return None


# Skipped before the session's workers start; with PREDQ_REQUIRE_BROWSER=1 the
# browser fixture fails instead.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not REQUIRED and _missing() is not None, reason=str(_missing())),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium under Playwright (never a downloaded browser build)."""
    if (reason := _missing()) is not None:
        pytest.fail(f"PREDQ_REQUIRE_BROWSER=1 but {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` over real HTTP on a free port (threads: the page long-polls)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def open_api(stack: Stack) -> Iterator[str]:
    """The session stack's API, with authentication off as ``predq run`` has it."""
    yield from serve(stack.client.application)


@pytest.fixture
def keyed_api(stack: Stack) -> Iterator[str]:
    """An API on the session stack's Redis and workers that requires an API key."""
    config = {"PREDQ_SETTINGS": stack.settings, "PREDQ_AUTH": "keys", "PREDQ_API_KEYS": f"page:{hash_key(KEY)}"}
    yield from serve(create_app(config))


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab; JavaScript errors fail the test."""
    context = browser.new_context(viewport={"width": 1200, "height": 800}, accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, errors


def cards(page: Any) -> dict[str, dict[str, str]]:
    """What each card shows: its file, and its label, confidence or error."""
    return page.eval_on_selector_all(
        "#results .card",
        """cards => Object.fromEntries(cards.map(c => [c.dataset.path, {
            state: c.classList.contains('done') ? 'done' : c.classList.contains('failed') ? 'failed' : 'pending',
            label: c.querySelector('.label')?.textContent ?? '',
            confidence: c.querySelector('.confidence')?.textContent ?? '',
            error: c.querySelector('.error')?.textContent ?? '',
            alt: c.querySelector('img')?.alt ?? '',
        }]))""",
    )


def wait_until_done(page: Any) -> None:
    """Until the run is over: the CSV link appears then."""
    page.locator("#download").wait_for(state="visible", timeout=120_000)


def test_a_folder_of_digits_is_classified_with_errors_per_file(
    page: Any, open_api: str, model_store: ModelStore,
    digit_pngs: list[tuple[bytes, int]], tmp_path: Path,
) -> None:  # fmt: skip
    folder = tmp_path / "scans"
    folder.mkdir()
    names = [f"digit-{i:02d}.png" for i in range(len(digit_pngs))]
    for name, (png, _) in zip(names, digit_pngs):
        (folder / name).write_bytes(png)
    (folder / "notes.txt").write_text("not an image\n")  # the page itself refuses it
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)  # the API refuses it
    (folder / "truncated.png").write_bytes(digit_pngs[0][0][:60])  # only the worker finds it corrupt

    page.goto(open_api)
    page.get_by_label("Images per job").fill("8")  # several jobs for 23 files
    page.get_by_label("Choose a folder…").set_input_files(folder)
    wait_until_done(page)

    shown = cards(page)
    assert sorted(shown) == sorted(f"scans/{name}" for name in [*names, "notes.txt", "broken.png", "truncated.png"])
    expected = LoadedModels(model_store, ServingOptions(device="cpu")).get(
        model_store.get("digits-cnn")
    ).predict_images([png for png, _ in digit_pngs])
    labels = [shown[f"scans/{name}"]["label"] for name in names]
    assert labels == [r["class_name"] for r in expected]
    assert np.mean([label == str(truth) for label, (_, truth) in zip(labels, digit_pngs)]) >= 0.9
    assert all(shown[f"scans/{name}"]["confidence"].endswith("%") for name in names)
    assert shown[f"scans/{names[0]}"]["alt"].startswith(f"scans/{names[0]}: predicted ")
    assert shown["scans/notes.txt"]["error"].startswith("not_an_image: ")
    assert shown["scans/broken.png"]["error"].startswith("invalid_image: ")
    assert shown["scans/truncated.png"]["error"].startswith("invalid_image: ")
    assert all(shown[f"scans/{bad}"]["state"] == "failed" for bad in ["notes.txt", "broken.png", "truncated.png"])
    assert page.locator("#status").inner_text() == "20 of 23 files classified, 3 with an error."
    assert page.locator("#classify-count").inner_text() == "22 / 22"

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    rows = list(csv.DictReader(saved.open(newline="")))
    assert list(rows[0]) == ["path", "label", "class_name", "confidence", "error"]
    by_path = {row["path"]: row for row in rows}
    assert [by_path[f"scans/{name}"]["class_name"] for name in names] == labels
    assert all(0 < float(by_path[f"scans/{name}"]["confidence"]) <= 1 for name in names)
    assert by_path["scans/notes.txt"]["label"] == "" and by_path["scans/notes.txt"]["error"]
    assert by_path["scans/truncated.png"]["error"].startswith("invalid_image: ")

    page.screenshot(path=tmp_path / "page.png", full_page=True)
    assert (tmp_path / "page.png").stat().st_size > 0


def test_with_keys_required_the_page_sends_the_key_it_is_given(
    page: Any, keyed_api: str, digit_pngs: list[tuple[bytes, int]], tmp_path: Path
) -> None:
    files = []
    for i, (png, _) in enumerate(digit_pngs[:3]):
        files.append(tmp_path / f"{i}.png")
        files[-1].write_bytes(png)
    page.goto(keyed_api)
    key = page.get_by_label("API key")
    assert key.is_visible()

    page.get_by_label("Choose files…").set_input_files(files)
    wait_until_done(page)
    assert all(card["error"].startswith("unauthorized: ") for card in cards(page).values())
    assert "wants an API key" in page.locator("#status").inner_text()

    key.fill(KEY)
    key.dispatch_event("change")
    page.get_by_label("Choose files…").set_input_files(files)
    wait_until_done(page)
    shown = cards(page)
    assert [shown[f"{i}.png"]["label"] for i in range(3)] == [str(label) for _, label in digit_pngs[:3]]
    assert page.evaluate("sessionStorage.getItem('predq.apiKey')") == KEY
