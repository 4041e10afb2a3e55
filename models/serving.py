"""Loading each model once per process and predicting with it."""
from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path
from typing import Any

from models.errors import IntegrityError, ModelError
from models.manifest import Family, Manifest
from models.store import ModelStore


@dataclasses.dataclass(frozen=True)
class ServingOptions:
    """How a worker process runs its models."""

    device: str = "auto"
    max_pixels: int = 40_000_000
    torch_threads: int | None = None
    decode_threads: int = 1


def default_decode_threads() -> int:
    """Image-decoding threads per worker process: one per core, at most 4.

    Pillow releases the GIL while it decodes and resizes, so threads overlap
    the C work; beyond a few, Python's share of each small image dominates.
    """
    return max(1, min(4, os.cpu_count() or 1))


class LoadedModels:
    """Per-process cache of loaded predictors keyed by ``name@version``.

    A model is loaded (and its artifact checked against the manifest) the
    first time it is asked for, then kept for the life of the process.
    """

    def __init__(self, store: ModelStore, options: ServingOptions) -> None:
        self.store = store
        self.options = options
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, manifest: Manifest) -> Any:
        """The predictor for ``manifest``, loading it on first use."""
        with self._lock:
            predictor = self._loaded.get(manifest.ref)
            if predictor is None:
                predictor = self._load(manifest)
                self._loaded[manifest.ref] = predictor
            return predictor

    def _load(self, manifest: Manifest) -> Any:
        path = self.store.artifact_path(manifest)
        try:
            return self._build(manifest, path)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - any loader failure means a bad artifact
            raise IntegrityError(f"{manifest.ref}: cannot load {manifest.artifact}: {exc}") from exc

    def _build(self, manifest: Manifest, path: Path) -> Any:
        # Imported here: scikit-learn and torch are heavy, and a process only
        # pays for the families it actually serves.
        if manifest.family is Family.SKLEARN:
            from models import tabular

            return tabular.TabularPredictor(manifest, tabular.load(path))
        from models import cnn

        return cnn.ImagePredictor(manifest, path, self.options)
