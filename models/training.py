"""Training the default models from data that ships with scikit-learn."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn
import skops
from sklearn import datasets, metrics
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from models import tabular
from models.manifest import Family, Manifest, Task
from models.store import ModelStore

# name -> (dataset loader, task, estimator factory, description)
SKLEARN_MODELS: dict[str, tuple[Callable[..., Any], Task, Callable[[], Any], str]] = {
    "iris-tree": (
        datasets.load_iris,
        Task.CLASSIFICATION,
        lambda: DecisionTreeClassifier(random_state=0),
        "Decision tree on the iris flowers",
    ),
    "iris-logreg": (
        datasets.load_iris,
        Task.CLASSIFICATION,
        lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "Logistic regression on the iris flowers",
    ),
    "iris-svm": (
        datasets.load_iris,
        Task.CLASSIFICATION,
        # SVC(probability=True) is deprecated in scikit-learn 1.9; this is its
        # documented replacement: one SVC with sigmoid-calibrated probabilities.
        lambda: CalibratedClassifierCV(SVC(random_state=0), ensemble=False),
        "Support vector classifier with calibrated probabilities on iris",
    ),
    "diabetes-linreg": (
        datasets.load_diabetes,
        Task.REGRESSION,
        LinearRegression,
        "Linear regression on the diabetes progression data set",
    ),
}
DEFAULT_CNN = "digits-cnn"
DEFAULT_MODELS = [*SKLEARN_MODELS, DEFAULT_CNN]


def train_sklearn(store: ModelStore, name: str) -> Manifest:
    """Fit one of :data:`SKLEARN_MODELS` and publish it to the store."""
    load, task, make_estimator, description = SKLEARN_MODELS[name]
    data = load()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0
    )
    model = make_estimator().fit(x_train, y_train)
    predicted = model.predict(x_test)
    if task is Task.CLASSIFICATION:
        scores = {"test_accuracy": float(metrics.accuracy_score(y_test, predicted))}
        class_names = [str(c) for c in data.target_names]
    else:
        scores = {
            "test_r2": float(metrics.r2_score(y_test, predicted)),
            "test_mae": float(metrics.mean_absolute_error(y_test, predicted)),
        }
        class_names = None
    draft = Manifest.draft(
        name=name,
        family=Family.SKLEARN,
        task=task,
        input_schema={
            "kind": "tabular",
            "n_features": int(data.data.shape[1]),
            "feature_names": [str(f) for f in data.feature_names],
        },
        artifact=tabular.ARTIFACT,
        class_names=class_names,
        library_versions={
            "scikit-learn": sklearn.__version__,
            "skops": skops.__version__,
            "numpy": np.__version__,
        },
        metrics={**scores, "n_train": len(x_train), "n_test": len(x_test)},
        description=description,
    )
    return store.publish(draft, lambda path: tabular.save(model, path))


def train_defaults(store: ModelStore, names: list[str] | None = None) -> list[Manifest]:
    """Train the named default models (all of them by default)."""
    published = []
    for name in names or DEFAULT_MODELS:
        if name == DEFAULT_CNN:
            from models.cnn_training import train_cnn  # torch only when needed

            published.append(train_cnn(store, name=name))
        elif name in SKLEARN_MODELS:
            published.append(train_sklearn(store, name))
        else:
            raise ValueError(f"unknown default model {name!r}; choose from {DEFAULT_MODELS}")
    return published
