"""The raw model ceiling: each model called in-process at its best batch size.

No HTTP, no queue, no copies between processes: what the machine can do with
the model alone, the yardstick for every served figure.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.scenarios import Sizes
from models import images
from models.serving import LoadedModels, ServingOptions
from models.store import ModelStore


def _rate(call: Callable[[], object], items: int, seconds: float) -> float:
    """Items per second of ``call`` (``items`` a call), after one warm-up call."""
    call()
    calls, started = 0, time.perf_counter()
    while calls == 0 or time.perf_counter() - started < seconds:
        call()
        calls += 1
    return items * calls / (time.perf_counter() - started)


def _best(rates: dict[int, float]) -> dict[str, Any]:
    best = max(rates, key=rates.__getitem__)
    return {
        "best_batch": best,
        "per_s": round(rates[best], 1),
        "by_batch": {str(size): round(rate, 1) for size, rate in rates.items()},
    }


def measure(model_dir: Path, rows: list[list[list[float]]], pngs: list[bytes],
            sizes: Sizes) -> dict[str, Any]:
    """Rows/s of iris-tree and images/s of digits-cnn at each batch size, and
    digits-cnn with PNG decoding (one thread, as a request or chunk decodes)."""
    store = ModelStore(model_dir)
    models = LoadedModels(store, ServingOptions(device="cpu"))
    seconds = sizes.ceiling_seconds
    tree = models.get(store.get("iris-tree"))
    cnn = models.get(store.get("digits-cnn"))

    table = np.resize(np.asarray([r[0] for r in rows]), (max(sizes.row_batches), 4)).tolist()
    row_rates = {
        b: _rate(lambda b=b: tree.predict(table[:b]), b, seconds) for b in sizes.row_batches
    }

    decoded = np.stack([images.decode(png, cnn.schema, cnn.max_pixels) for png in pngs])
    arrays = np.resize(decoded, (max(sizes.image_batches), *decoded.shape[1:]))
    image_rates = {
        b: _rate(lambda b=b: cnn.predict_arrays(arrays[:b]), b, seconds)
        for b in sizes.image_batches
    }
    image = _best(image_rates)
    size = image["best_batch"]

    def classify_all() -> None:
        for start in range(0, len(pngs), size):
            cnn.predict_images(pngs[start:start + size])

    decoding = _rate(classify_all, len(pngs), seconds)
    return {
        "iris-tree": {"unit": "rows/s", **_best(row_rates)},
        "digits-cnn": {
            "unit": "images/s",
            **image,
            "with_decoding_per_s": round(decoding, 1),
        },
    }
