"""Training the default models from data that ships with scikit-learn."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn import datasets
from sklearn.model_selection import train_test_split

from models import tabular
from models.estimators import SEED_ESTIMATORS
from models.fitting import make_estimator, scores, sklearn_draft
from models.manifest import Manifest
from models.store import ModelStore

# name -> (dataset loader, description); the estimator kind is in SEED_ESTIMATORS.
SKLEARN_MODELS: dict[str, tuple[Callable[..., Any], str]] = {
    "iris-tree": (datasets.load_iris, "Decision tree on the iris flowers"),
    "iris-logreg": (datasets.load_iris, "Logistic regression on the iris flowers"),
    "iris-svm": (
        datasets.load_iris,
        "Support vector classifier with calibrated probabilities on iris",
    ),
    "diabetes-linreg": (
        datasets.load_diabetes,
        "Linear regression on the diabetes progression data set",
    ),
}
DEFAULT_CNN = "digits-cnn"
DEFAULT_MODELS = [*SKLEARN_MODELS, DEFAULT_CNN]


def train_sklearn(store: ModelStore, name: str) -> Manifest:
    """Fit one of :data:`SKLEARN_MODELS` and publish it to the store."""
    load, description = SKLEARN_MODELS[name]
    kind = SEED_ESTIMATORS[name]
    data = load()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0
    )
    model = make_estimator(kind).fit(x_train, y_train)
    scored = scores(kind.task, "test", y_test, model.predict(x_test))
    class_names = [str(c) for c in data.target_names] if "target_names" in data else None
    draft = sklearn_draft(
        name,
        kind,
        [str(f) for f in data.feature_names],
        class_names,
        {**scored, "n_train": len(x_train), "n_test": len(x_test)},
        description,
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
