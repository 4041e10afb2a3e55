"""Training the CNN on CIFAR-10 from a local torchvision-format folder."""
from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
from torchvision.datasets import CIFAR10

from models import ModelStore
from models.cnn_training import train_cnn

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _write_batch(path: Path, n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    # Class-dependent brightness so the tiny net has something to learn.
    data = (rng.integers(0, 40, (n, 3072)) + labels[:, None] * 20).astype(np.uint8)
    path.write_bytes(pickle.dumps({"data": data, "labels": labels.tolist()}))
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def fake_cifar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny folder in CIFAR-10's python format, with its own checksums."""
    folder = tmp_path / CIFAR10.base_folder
    folder.mkdir()
    train = [[f"data_batch_{i}", _write_batch(folder / f"data_batch_{i}", 40, i)] for i in range(1, 6)]
    test = [["test_batch", _write_batch(folder / "test_batch", 50, 9)]]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": CLASSES}))
    meta_md5 = hashlib.md5((folder / "batches.meta").read_bytes()).hexdigest()
    # torchvision verifies the real files' md5s; these are the fake files' own.
    monkeypatch.setattr(CIFAR10, "train_list", train)
    monkeypatch.setattr(CIFAR10, "test_list", test)
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": meta_md5})
    return tmp_path


def test_cnn_trains_on_a_cifar10_folder(fake_cifar: Path, tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store")
    manifest = train_cnn(store, "cifar10-cnn", "cifar10", fake_cifar, epochs=2)
    assert manifest.ref == "cifar10-cnn@1"
    assert manifest.class_names == CLASSES
    assert manifest.metrics["n_train"] == 200 and manifest.metrics["n_test"] == 50
    assert 0.0 <= manifest.metrics["test_accuracy"] <= 1.0
    store.artifact_path(manifest)  # written and checksummed


def test_missing_cifar_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not found"):
        train_cnn(ModelStore(tmp_path), "x", "cifar10", tmp_path / "nothing", epochs=1)
