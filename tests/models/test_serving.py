"""Loaded models predict what the estimators themselves predict."""
from __future__ import annotations

import dataclasses
import io
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import skops.io
from PIL import Image
from sklearn import datasets
from sklearn.preprocessing import FunctionTransformer

from models import IntegrityError, ModelStore
from models.cnn import PARALLEL_DECODE_BYTES
from models.manifest import sha256_of
from models.serving import LoadedModels, ServingOptions
from models.tabular import load


@pytest.fixture
def loaded(model_store: ModelStore) -> LoadedModels:
    return LoadedModels(model_store, ServingOptions(device="cpu"))


@pytest.mark.parametrize("name", ["iris-tree", "iris-logreg", "iris-svm"])
def test_classifier_results_match_the_estimator(loaded: LoadedModels, model_store: ModelStore, name: str) -> None:
    manifest = model_store.get(name)
    predictor = loaded.get(manifest)
    x = datasets.load_iris().data[::10]
    results = predictor.predict(x.tolist())
    assert [r["label"] for r in results] == predictor.model.predict(x).tolist()
    for result, proba in zip(results, predictor.model.predict_proba(x)):
        assert result["class_name"] == manifest.class_names[result["label"]]
        assert list(result["probabilities"].values()) == pytest.approx(proba.tolist())


def test_regressor_returns_values(loaded: LoadedModels, model_store: ModelStore) -> None:
    predictor = loaded.get(model_store.get("diabetes-linreg"))
    x = datasets.load_diabetes().data[:5]
    assert [r["value"] for r in predictor.predict(x.tolist())] == pytest.approx(predictor.model.predict(x))


def test_each_model_is_loaded_once_per_process(loaded: LoadedModels, model_store: ModelStore) -> None:
    manifest = model_store.get("iris-tree")
    assert loaded.get(manifest) is loaded.get(manifest)


def test_cnn_classifies_digits_and_isolates_a_bad_image(
    loaded: LoadedModels, model_store: ModelStore, digit_pngs: list[tuple[bytes, int]]
) -> None:
    predictor = loaded.get(model_store.get("digits-cnn"))
    blobs = [png for png, _ in digit_pngs]
    blobs.insert(3, blobs[0][:50])  # truncated: fails alone
    results = predictor.predict_images(blobs)
    assert results[3]["error"]["code"] == "invalid_image"
    good = results[:3] + results[4:]
    accuracy = np.mean([r["label"] == label for r, (_, label) in zip(good, digit_pngs)])
    assert accuracy >= 0.9
    assert all(sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-4) for r in good)


def test_large_images_decoded_on_threads_classify_as_in_one_thread(
    model_store: ModelStore, digit_pngs: list[tuple[bytes, int]]
) -> None:
    manifest = model_store.get("digits-cnn")
    threaded = LoadedModels(model_store, ServingOptions(device="cpu", decode_threads=2)).get(manifest)
    serial = LoadedModels(model_store, ServingOptions(device="cpu", decode_threads=1)).get(manifest)
    # Noisy 256x256 photos compress badly: large enough to be decoded on threads.
    rng = np.random.default_rng(0)
    blobs = []
    for png, _ in digit_pngs[:6]:
        image = Image.open(io.BytesIO(png)).convert("RGB").resize((256, 256))
        noisy = np.asarray(image, dtype=np.int16) + rng.integers(-8, 8, (256, 256, 3))
        buffer = io.BytesIO()
        Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(buffer, format="PNG")
        blobs.append(buffer.getvalue())
    blobs.insert(2, blobs[0][:100])  # truncated: fails alone, on its thread
    assert sum(map(len, blobs)) >= PARALLEL_DECODE_BYTES * len(blobs)
    results = threaded.predict_images(blobs)
    assert results[2]["error"]["code"] == "invalid_image"
    assert results == serial.predict_images(blobs)


def test_cuda_request_without_a_gpu_is_a_clear_error(model_store: ModelStore) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(Exception, match="no CUDA device"):
        LoadedModels(model_store, ServingOptions(device="cuda")).get(model_store.get("digits-cnn"))


def test_artifact_referring_to_untrusted_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    skops.io.dump(FunctionTransformer(os.system), path)
    with pytest.raises(IntegrityError, match="posix.system"):
        load(path)


@pytest.mark.parametrize("name", ["iris-tree", "digits-cnn"])
def test_a_planted_pickle_is_never_unpickled(
    model_store: ModelStore, tmp_path: Path, name: str, pickle_payload: tuple[object, Path]
) -> None:
    store = ModelStore(tmp_path / "store")
    shutil.copytree(model_store.root / name, store.root / name)
    manifest = store.get(name)
    payload, marker = pickle_payload
    artifact = store.root / name / manifest.version / manifest.artifact
    artifact.write_bytes(pickle.dumps(payload))
    # The attacker controls the manifest too, so the checksum matches.
    dataclasses.replace(manifest, sha256=sha256_of(artifact)).write(artifact.parent)
    with pytest.raises(IntegrityError, match="cannot load"):
        LoadedModels(store, ServingOptions(device="cpu")).get(store.get(name))
    assert not marker.exists()
