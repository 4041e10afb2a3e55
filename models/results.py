"""The JSON shape of one predicted item."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.manifest import Manifest


def classification_result(
    manifest: Manifest, label: int, probabilities: Sequence[float]
) -> dict[str, Any]:
    """Label, class name and per-class probabilities of one classified item."""
    names = manifest.class_names or [str(i) for i in range(len(probabilities))]
    return {
        "label": label,
        "class_name": names[label],
        "probabilities": {name: float(p) for name, p in zip(names, probabilities)},
    }


def error_result(code: str, message: str) -> dict[str, Any]:
    """The entry of one item that failed on its own; the job's other items stand."""
    return {"error": {"code": code, "message": message}}
