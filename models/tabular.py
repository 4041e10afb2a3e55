"""scikit-learn models: safe loading with skops, and prediction."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import skops.io

from models.errors import IntegrityError, InvalidInput
from models.manifest import Manifest, Task
from models.results import classification_result

ARTIFACT = "model.skops"

# The only non-default types skops may rebuild: what the shipped families need.
# Anything else in an artifact is refused rather than trusted.
TRUSTED_TYPES = [
    "sklearn.tree._tree.Tree",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
]


def save(model: Any, path: Path) -> None:
    """Write a fitted estimator with skops (never pickle)."""
    skops.io.dump(model, path)


def load(path: Path) -> Any:
    """Load an estimator written by :func:`save`, refusing untrusted types."""
    untrusted = set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
    if untrusted:
        raise IntegrityError(f"{path.name} holds untrusted types: {sorted(untrusted)}")
    return skops.io.load(path, trusted=TRUSTED_TYPES)


class TabularPredictor:
    """A loaded scikit-learn model and the manifest that describes it."""

    def __init__(self, manifest: Manifest, model: Any) -> None:
        self.manifest = manifest
        self.model = model

    def predict(self, rows: list[list[float]]) -> list[dict[str, Any]]:
        """One result per row: label, class name and probabilities, or value.

        Raises InvalidInput for rows the estimator refuses (scikit-learn's
        ValueError), such as a value past float32 for a tree.
        """
        x = np.asarray(rows, dtype=np.float64)
        try:
            if self.manifest.task is Task.REGRESSION:
                return [{"value": float(v)} for v in self.model.predict(x)]
            labels = self.model.predict(x)
            probabilities = self.model.predict_proba(x)
        except ValueError as exc:
            raise InvalidInput(f"{self.manifest.ref} cannot predict this input: {exc}") from None
        return [
            classification_result(self.manifest, int(label), p)
            for label, p in zip(labels, probabilities)
        ]
