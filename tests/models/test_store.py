"""The model store: manifests, versions, integrity."""
from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from models import IntegrityError, ModelNotFound, ModelStore
from models.manifest import Family, Manifest, Task
from models.training import DEFAULT_MODELS, train_sklearn


def test_default_models_have_complete_manifests(model_store: ModelStore) -> None:
    assert model_store.names() == sorted(DEFAULT_MODELS)
    iris = model_store.get("iris-svm")
    assert (iris.family, iris.task) == (Family.SKLEARN, Task.CLASSIFICATION)
    assert iris.input_schema["n_features"] == 4
    assert iris.class_names == ["setosa", "versicolor", "virginica"]
    assert iris.metrics["test_accuracy"] > 0.9
    assert {"scikit-learn", "skops", "python"} <= set(iris.library_versions)
    assert len(iris.sha256) == 64
    regression = model_store.get("diabetes-linreg")
    assert regression.task is Task.REGRESSION and regression.class_names is None


def test_cnn_manifest_records_accuracy_of_at_least_90_percent(model_store: ModelStore) -> None:
    cnn = model_store.get("digits-cnn")
    assert cnn.family is Family.TORCH_CNN
    assert cnn.input_schema["width"] == cnn.input_schema["height"] == 32
    assert cnn.class_names == [str(d) for d in range(10)]
    assert cnn.metrics["test_accuracy"] >= 0.90


def test_publishing_again_adds_a_version_and_latest_follows(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    first = train_sklearn(store, "iris-tree")
    second = train_sklearn(store, "iris-tree")
    assert (first.version, second.version) == ("1", "2")
    assert store.versions("iris-tree") == ["1", "2"]
    assert store.get("iris-tree").version == "2"
    assert store.get("iris-tree", "1") == first


def test_unknown_models_and_versions_are_not_found(model_store: ModelStore) -> None:
    with pytest.raises(ModelNotFound):
        model_store.get("no-such-model")
    with pytest.raises(ModelNotFound):
        model_store.get("iris-tree", "99")
    with pytest.raises(ModelNotFound):
        model_store.get("../../etc")


def test_tampered_artifact_is_refused(model_store: ModelStore, tmp_path: Path) -> None:
    shutil.copytree(model_store.root / "iris-tree", tmp_path / "iris-tree")
    store = ModelStore(tmp_path)
    manifest = store.get("iris-tree")
    with (tmp_path / "iris-tree" / manifest.version / manifest.artifact).open("ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(IntegrityError, match="does not match"):
        store.artifact_path(manifest)


def test_manifest_round_trips_through_json(model_store: ModelStore) -> None:
    manifest = model_store.get("digits-cnn")
    data = json.loads(json.dumps(manifest.to_dict()))
    assert type(manifest).from_dict(data) == manifest
    assert dataclasses.replace(manifest, version="7").ref == "digits-cnn@7"


class _RacingStore(ModelStore):
    """A store whose publishers all choose their version number before any of them
    renames: the race two concurrent trainings of one model can run into."""

    def __init__(self, root: Path, publishers: int) -> None:
        super().__init__(root)
        self._together = threading.Barrier(publishers)
        self._chosen = threading.local()

    def _next_version(self, model_dir: Path) -> str:
        version = super()._next_version(model_dir)
        if not getattr(self._chosen, "once", False):
            self._chosen.once = True
            self._together.wait(timeout=30)
        return version


def test_concurrent_publishes_get_distinct_versions_and_stay_intact(
    model_store: ModelStore, tmp_path: Path
) -> None:
    shutil.copytree(model_store.root / "iris-tree", tmp_path / "iris-tree")
    store = _RacingStore(tmp_path, publishers=3)
    draft = store.get("iris-tree")
    source = store.artifact_path(draft)

    def publish(i: int) -> Manifest:
        described = dataclasses.replace(draft, description=f"publisher {i}")
        return store.publish(described, lambda path: shutil.copyfile(source, path))

    with ThreadPoolExecutor(3) as pool:
        published = list(pool.map(publish, range(3)))
    assert sorted(m.version for m in published) == ["2", "3", "4"]
    assert store.versions("iris-tree") == ["1", "2", "3", "4"]
    for manifest in published:
        assert store.get("iris-tree", manifest.version) == manifest
        store.artifact_path(manifest)  # complete and matching its sha256
    assert not list((tmp_path / "iris-tree").glob(".staging-*"))
