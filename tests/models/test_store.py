"""The model store: manifests, versions, integrity."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from models import IntegrityError, ModelNotFound, ModelStore
from models.manifest import Family, Task
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
