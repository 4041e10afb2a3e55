"""The CNN image classifier (the seed's CIFAR-10 LeNet) and its predictor.

Importing this module imports torch: only worker processes that serve or
train image models do so.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from models import images
from models.errors import InvalidInput, ModelError
from models.manifest import Manifest
from models.serving import ServingOptions
from models.results import classification_result

ARTIFACT = "model.safetensors"


class Net(nn.Module):
    """conv 6@5x5, pool, conv 16@5x5, pool, fc 120, 84, n_classes on 3x32x32."""

    def __init__(self, n_classes: int = 10, channels: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, 5),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for a ``Nx3x32x32`` float batch."""
        return self.classifier(self.features(x))


def resolve_device(requested: str) -> torch.device:
    """``auto`` picks CUDA when available; ``cuda`` without a GPU is an error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError("device 'cuda' requested but no CUDA device is available")
    return torch.device(requested)


def to_tensor(batch: np.ndarray, schema: dict[str, Any], device: torch.device) -> torch.Tensor:
    """``NxHxWxC`` uint8 array -> normalised ``NxCxHxW`` float tensor on ``device``."""
    x = torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(schema["mean"], device=device).view(1, -1, 1, 1)
    std = torch.tensor(schema["std"], device=device).view(1, -1, 1, 1)
    return x.sub_(mean).div_(std)


def save(net: Net, path: Path) -> None:
    """Write weights as safetensors: no pickle, nothing executable."""
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))


class ImagePredictor:
    """A loaded CNN on its device, classifying batches of image bytes."""

    def __init__(self, manifest: Manifest, path: Path, options: ServingOptions) -> None:
        self.manifest = manifest
        self.schema = manifest.input_schema
        self.max_pixels = options.max_pixels
        self.device = resolve_device(options.device)
        if self.device.type == "cpu" and options.torch_threads:
            torch.set_num_threads(options.torch_threads)
        self.net = Net(len(manifest.class_names or []), self.schema["channels"])
        self.net.load_state_dict(load_file(str(path), device="cpu"))
        self.net.to(self.device).eval()

    def predict_arrays(self, batch: np.ndarray) -> list[dict[str, Any]]:
        """Classify an ``NxHxWxC`` uint8 batch in one forward pass."""
        with torch.inference_mode():
            logits = self.net(to_tensor(batch, self.schema, self.device))
            probabilities = torch.softmax(logits, dim=1).cpu().numpy()
        return [
            classification_result(self.manifest, int(p.argmax()), p) for p in probabilities
        ]

    def predict_images(self, blobs: Sequence[bytes]) -> list[dict[str, Any]]:
        """Decode and classify images; a bad image yields an error entry, not an exception."""
        results: list[dict[str, Any] | None] = [None] * len(blobs)
        arrays, positions = [], []
        for i, data in enumerate(blobs):
            try:
                arrays.append(images.decode(data, self.schema, self.max_pixels))
                positions.append(i)
            except InvalidInput as exc:
                results[i] = {"error": {"code": exc.code, "message": str(exc)}}
        if arrays:
            for i, result in zip(positions, self.predict_arrays(np.stack(arrays))):
                results[i] = result
        return results  # type: ignore[return-value]
