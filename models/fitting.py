"""Fitting scikit-learn estimators and publishing them as model versions."""
from __future__ import annotations

from importlib.metadata import version
from typing import Any

import numpy as np
from sklearn import metrics
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from models import tabular
from models.errors import InvalidInput
from models.estimators import Estimator
from models.manifest import Family, Manifest, Task
from models.store import ModelStore
from models.training_data import TrainingData

# The distributions an artifact depends on: their versions go into its manifest.
ARTIFACT_LIBRARIES = ("scikit-learn", "skops", "numpy")
DESCRIPTIONS = {
    Estimator.DECISION_TREE: "Decision tree classifier",
    Estimator.LOGISTIC_REGRESSION: "Logistic regression (standardised features)",
    Estimator.SVM: "Support vector classifier with calibrated probabilities",
    Estimator.LINEAR_REGRESSION: "Linear regression",
}


def make_estimator(kind: Estimator, calibration_folds: int = 5) -> Any:
    """An unfitted estimator of ``kind``.

    ``calibration_folds`` is the SVM's cross-validation for its probabilities;
    it cannot exceed the rows of the rarest class.
    """
    if kind is Estimator.DECISION_TREE:
        return DecisionTreeClassifier(random_state=0)
    if kind is Estimator.LOGISTIC_REGRESSION:
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if kind is Estimator.SVM:
        # SVC(probability=True) is deprecated in scikit-learn 1.9; this is its
        # documented replacement: one SVC with sigmoid-calibrated probabilities.
        return CalibratedClassifierCV(SVC(random_state=0), ensemble=False, cv=calibration_folds)
    return LinearRegression()


def scores(task: Task, prefix: str, y_true: Any, y_pred: Any) -> dict[str, float]:
    """Accuracy for classifiers, R² and mean absolute error for regressors."""
    if task is Task.CLASSIFICATION:
        return {f"{prefix}_accuracy": float(metrics.accuracy_score(y_true, y_pred))}
    return {
        f"{prefix}_r2": float(metrics.r2_score(y_true, y_pred)),
        f"{prefix}_mae": float(metrics.mean_absolute_error(y_true, y_pred)),
    }


def sklearn_draft(
    name: str,
    kind: Estimator,
    feature_names: list[str],
    class_names: list[str] | None,
    scored: dict[str, Any],
    description: str,
    run_id: str = "",
) -> Manifest:
    """The manifest of a fitted scikit-learn model about to be published."""
    return Manifest.draft(
        name=name,
        family=Family.SKLEARN,
        task=kind.task,
        input_schema={"kind": "tabular", "n_features": len(feature_names), "feature_names": feature_names},
        artifact=tabular.ARTIFACT,
        class_names=class_names,
        library_versions={name: version(name) for name in ARTIFACT_LIBRARIES},
        metrics=scored,
        description=description,
        estimator=kind.value,
        run_id=run_id,
    )


def fit(data: TrainingData) -> tuple[Any, dict[str, Any]]:
    """Fit ``data``'s estimator; return the model and its scores.

    A fraction ``data.holdout`` of the rows (stratified by class) is held
    out and scored when there are enough rows; the model is fitted on the
    rest. Training scores are always reported.
    """
    x, y = np.asarray(data.rows, dtype=np.float64), np.asarray(data.targets)
    task = data.estimator.task
    x_train, x_test, y_train, y_test = _split(x, y, data.holdout, task)
    folds = min(5, int(np.bincount(y_train).min())) if data.estimator is Estimator.SVM else 5
    try:
        model = make_estimator(data.estimator, folds).fit(x_train, y_train)
    except ValueError as exc:
        raise InvalidInput(f"cannot fit {data.estimator.value} on this data: {exc}") from None
    scored: dict[str, Any] = scores(task, "train", y_train, model.predict(x_train))
    if len(x_test):
        scored |= scores(task, "test", y_test, model.predict(x_test))
    return model, {**scored, "n_train": len(x_train), "n_test": len(x_test)}


def _split(x: np.ndarray, y: np.ndarray, holdout: float, task: Task) -> list[np.ndarray]:
    """Train and held-out parts; everything is training data when too few rows to hold out."""
    n_test = int(round(len(x) * holdout))
    stratify = None
    if task is Task.CLASSIFICATION:
        counts = np.bincount(y)
        # A stratified split needs each class twice and room for every class on each side.
        if counts[counts > 0].min() < 2 or n_test < len(counts) or len(x) - n_test < len(counts):
            n_test = 0
        stratify = y
    if n_test < 2:
        return [x, x[:0], y, y[:0]]
    return train_test_split(x, y, test_size=n_test, random_state=0, stratify=stratify)


def publish_fitted(store: ModelStore, name: str, data: TrainingData, run_id: str = "") -> Manifest:
    """Fit ``data`` and publish it as the next version of ``name``.

    A run already published (the same ``run_id``, redelivered after a worker
    died between publishing and recording it) returns that version instead.
    """
    if run_id:
        done = store.find_run(name, run_id)
        if done is not None:
            return done
    model, scored = fit(data)
    base = f", retrained from version {data.base_version}" if data.base_version else ""
    draft = sklearn_draft(
        name, data.estimator, data.feature_names, data.class_names, scored,
        f"{DESCRIPTIONS[data.estimator]} fitted on posted data{base}", run_id,
    )  # fmt: skip
    return store.publish(draft, lambda path: tabular.save(model, path))
