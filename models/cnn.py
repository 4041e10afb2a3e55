"""The CNN image classifier (the seed's CIFAR-10 LeNet) and its predictor.

Importing this module imports torch: only worker processes that serve or
train image models do so.
"""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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
from models.results import classification_result, error_result

ARTIFACT = "model.safetensors"
# Below this mean upload size, decoding on threads is slower than in a loop:
# Python's share of opening a small image holds the GIL, and the threads
# contend for it (measured: 32x32 PNGs 2.4x slower on 2 threads, 256x256 PNGs
# and 512x512 JPEGs 1.8x faster).
PARALLEL_DECODE_BYTES = 64 * 1024


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
        # Created in the process that serves (after any fork), like the model.
        self._decoders = (
            ThreadPoolExecutor(options.decode_threads, thread_name_prefix="predq-decode")
            if options.decode_threads > 1
            else None
        )
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

    def _decode(self, data: bytes) -> np.ndarray | dict[str, Any]:
        """One image as the model's input array, or its error entry."""
        try:
            return images.decode(data, self.schema, self.max_pixels)
        except InvalidInput as exc:
            return error_result(exc.code, str(exc))

    def predict_images(self, blobs: Sequence[bytes]) -> list[dict[str, Any]]:
        """Decode and classify images; a bad image yields an error entry, not an exception.

        Large images are decoded on the predictor's thread pool (Pillow
        releases the GIL while decoding and resizing), then all are
        classified in one pass.
        """
        big = sum(map(len, blobs)) >= PARALLEL_DECODE_BYTES * len(blobs)
        if self._decoders is not None and len(blobs) > 1 and big:
            decoded = list(self._decoders.map(self._decode, blobs))
        else:
            decoded = [self._decode(data) for data in blobs]
        positions = [i for i, item in enumerate(decoded) if isinstance(item, np.ndarray)]
        results: list[Any] = decoded
        if positions:
            batch = np.stack([decoded[i] for i in positions])
            for i, result in zip(positions, self.predict_arrays(batch)):
                results[i] = result
        return results
