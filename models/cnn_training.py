"""Training the CNN: on sklearn's digits (ships offline) or on CIFAR-10."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import PIL
import safetensors
import torch
from PIL import Image
from sklearn import datasets
from sklearn.model_selection import train_test_split
from torch import nn

from models import cnn, images
from models.manifest import Family, Manifest, Task
from models.store import ModelStore

IMAGE_SCHEMA = {
    "kind": "image",
    "width": 32,
    "height": 32,
    "channels": 3,
    "mean": [0.5, 0.5, 0.5],
    "std": [0.5, 0.5, 0.5],
    "formats": sorted(images.ALLOWED_FORMATS),
}


def digits_image(pixels: np.ndarray) -> Image.Image:
    """One sklearn digits sample (8x8 floats 0..16) as a grayscale PIL image."""
    return Image.fromarray(np.round(pixels * 255.0 / 16.0).astype(np.uint8), mode="L")


def load_digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """sklearn's digits as ``Nx32x32x3`` uint8 images, labels and class names."""
    digits = datasets.load_digits()
    x = np.stack([images.to_array(digits_image(p), IMAGE_SCHEMA) for p in digits.images])
    return x, digits.target.astype(np.int64), [str(c) for c in digits.target_names]


def load_cifar10(data_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """CIFAR-10 from a local torchvision-format folder (never downloads)."""
    from torchvision.datasets import CIFAR10

    train = CIFAR10(str(data_dir), train=True, download=False)
    test = CIFAR10(str(data_dir), train=False, download=False)
    return (
        np.asarray(train.data),
        np.asarray(train.targets, dtype=np.int64),
        np.asarray(test.data),
        np.asarray(test.targets, dtype=np.int64),
        list(train.classes),
    )


def fit(
    x: np.ndarray, y: np.ndarray, n_classes: int, epochs: int, seed: int = 0
) -> cnn.Net:
    """Train a fresh Net with Adam on uint8 ``NxHxWxC`` images."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = cnn.Net(n_classes)
    optimiser = torch.optim.Adam(net.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    inputs = cnn.to_tensor(x, IMAGE_SCHEMA, torch.device("cpu"))
    targets = torch.from_numpy(y)
    net.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(inputs), generator=generator).split(64):
            optimiser.zero_grad()
            loss_fn(net(inputs[batch]), targets[batch]).backward()
            optimiser.step()
    return net.eval()


def accuracy(net: cnn.Net, x: np.ndarray, y: np.ndarray) -> float:
    """Share of ``x`` that ``net`` labels as ``y``."""
    with torch.inference_mode():
        predicted = net(cnn.to_tensor(x, IMAGE_SCHEMA, torch.device("cpu"))).argmax(1)
    return float((predicted.numpy() == y).mean())


def train_cnn(
    store: ModelStore,
    name: str = "digits-cnn",
    dataset: str = "digits",
    data_dir: Path | None = None,
    epochs: int | None = None,
) -> Manifest:
    """Train the CNN on ``digits`` or ``cifar10`` and publish it to the store."""
    if dataset == "digits":
        x, y, classes = load_digits()
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=0.2, random_state=0, stratify=y
        )
        epochs = epochs or 25
    elif dataset == "cifar10":
        if data_dir is None:
            raise ValueError("--data-dir is required for cifar10")
        x_train, y_train, x_test, y_test, classes = load_cifar10(data_dir)
        epochs = epochs or 10
    else:
        raise ValueError(f"unknown dataset {dataset!r} (digits or cifar10)")
    net = fit(x_train, y_train, len(classes), epochs)
    metrics: dict[str, Any] = {
        "dataset": dataset,
        "test_accuracy": accuracy(net, x_test, y_test),
        "n_train": int(len(x_train)),
        "n_test": int(len(x_test)),
        "epochs": epochs,
    }
    draft = Manifest.draft(
        name=name,
        family=Family.TORCH_CNN,
        task=Task.CLASSIFICATION,
        input_schema=IMAGE_SCHEMA,
        artifact=cnn.ARTIFACT,
        class_names=classes,
        library_versions={
            "torch": torch.__version__,
            "safetensors": safetensors.__version__,
            "pillow": PIL.__version__,
            "numpy": np.__version__,
        },
        metrics=metrics,
        description=f"LeNet-style CNN trained on {dataset}",
    )
    return store.publish(draft, lambda path: cnn.save(net, path))
