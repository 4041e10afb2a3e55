"""Fitting new model versions on posted rows: every estimator kind, checked data, publishing."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sklearn import datasets

from models import InvalidInput, ModelNotFound, ModelStore
from models.errors import TooMuchTrainingData
from models.estimators import Estimator, training_base
from models.fitting import publish_fitted
from models.serving import LoadedModels, ServingOptions
from models.training_data import TrainingLimits, check_training_data, read_csv

IRIS = datasets.load_iris()
DIABETES = datasets.load_diabetes()
LIMITS = TrainingLimits()


@pytest.fixture
def store(model_store: ModelStore, tmp_path: Path) -> ModelStore:
    """A copy of the trained store that a test may publish to."""
    shutil.copytree(model_store.root, tmp_path / "store")
    return ModelStore(tmp_path / "store")


def _predict(store: ModelStore, name: str, version: str, rows: list[list[float]]) -> list[dict]:
    return LoadedModels(store, ServingOptions()).get(store.get(name, version)).predict(rows)


@pytest.mark.parametrize("name", ["iris-tree", "iris-logreg", "iris-svm"])
def test_a_classifier_is_retrained_on_posted_rows(store: ModelStore, name: str) -> None:
    base, kind = training_base(store, name, None, None)
    data = check_training_data(base, kind, IRIS.data.tolist(), IRIS.target.tolist(), LIMITS)
    manifest = publish_fitted(store, name, data)
    assert manifest.version == "2" and store.get(name).version == "2"
    assert manifest.estimator == kind.value
    assert manifest.class_names == ["setosa", "versicolor", "virginica"]
    assert manifest.metrics["n_train"] == 120 and manifest.metrics["n_test"] == 30
    assert manifest.metrics["test_accuracy"] > 0.85 and manifest.metrics["train_accuracy"] > 0.85
    predicted = _predict(store, name, "2", IRIS.data[[0, 60, 120]].tolist())
    assert [p["class_name"] for p in predicted] == ["setosa", "versicolor", "virginica"]


def test_linear_regression_is_retrained_and_reports_r2(store: ModelStore) -> None:
    base, kind = training_base(store, "diabetes-linreg", None, None)
    assert kind is Estimator.LINEAR_REGRESSION
    data = check_training_data(base, kind, DIABETES.data.tolist(), DIABETES.target.tolist(), LIMITS)
    manifest = publish_fitted(store, "diabetes-linreg", data)
    assert manifest.ref == "diabetes-linreg@2" and manifest.class_names is None
    assert manifest.input_schema["feature_names"] == base.input_schema["feature_names"]
    assert 0.3 < manifest.metrics["test_r2"] < 1 and manifest.metrics["train_r2"] > 0.4
    value = _predict(store, "diabetes-linreg", "2", DIABETES.data[:1].tolist())[0]["value"]
    assert abs(value - DIABETES.target[0]) < 100


def test_a_new_model_takes_class_names_from_string_targets(store: ModelStore) -> None:
    base, kind = training_base(store, "flowers", None, Estimator.DECISION_TREE)
    assert base is None
    targets = [str(IRIS.target_names[t]).upper() for t in IRIS.target]
    data = check_training_data(None, kind, IRIS.data.tolist(), targets, LIMITS, ["a", "b", "c", "d"])
    manifest = publish_fitted(store, "flowers", data)
    assert manifest.ref == "flowers@1"
    assert manifest.class_names == ["SETOSA", "VERSICOLOR", "VIRGINICA"]
    assert manifest.input_schema == {"kind": "tabular", "n_features": 4, "feature_names": ["a", "b", "c", "d"]}
    assert _predict(store, "flowers", "1", IRIS.data[[100]].tolist())[0]["class_name"] == "VIRGINICA"


def test_a_few_rows_are_all_used_for_training(store: ModelStore) -> None:
    rows = [[0.0, 0.0], [0.1, 0.0], [1.0, 1.0], [0.9, 1.0]]
    data = check_training_data(None, Estimator.LOGISTIC_REGRESSION, rows, ["no", "no", "yes", "yes"], LIMITS)
    manifest = publish_fitted(store, "tiny", data)
    assert manifest.metrics["n_train"] == 4 and manifest.metrics["n_test"] == 0
    assert "test_accuracy" not in manifest.metrics


def test_a_redelivered_run_finds_its_version_instead_of_publishing_another(store: ModelStore) -> None:
    base, kind = training_base(store, "iris-tree", None, None)
    data = check_training_data(base, kind, IRIS.data.tolist(), IRIS.target.tolist(), LIMITS)
    first = publish_fitted(store, "iris-tree", data, run_id="job-1")
    again = publish_fitted(store, "iris-tree", data, run_id="job-1")
    assert first == again and store.versions("iris-tree") == ["1", "2"]


def test_integer_labels_keep_the_base_models_class_names(store: ModelStore) -> None:
    base, kind = training_base(store, "iris-tree", None, None)
    rows, targets = IRIS.data[50:].tolist(), IRIS.target[50:].tolist()  # no setosa
    data = check_training_data(base, kind, rows, targets, LIMITS)
    assert data.class_names == ["versicolor", "virginica"] and set(data.targets) == {0, 1}


@pytest.mark.parametrize(
    ("rows", "targets", "message"),
    [
        ([], [], "non-empty"),
        ([[1, 2, 3]] * 6, [0, 1] * 3, "rows\\[0\\] has 3 values; iris-tree@1 takes 4"),
        ([[1, 2, 3, 4], [1, 2, 3]], [0, 1], "rows\\[1\\] has 3 values"),
        ([[1, 2, 3, 4]] * 6, [0, 1] * 2, "6 values"),
        ([[1, 2, 3, float("nan")]] * 6, [0, 1] * 3, "not finite"),
        ([[1, 2, 3, True]] * 6, [0, 1] * 3, "not a number"),
        ([[1, 2, 3, "4"]] * 6, [0, 1] * 3, "not a number"),
        ([[1, 2, 3, 4]] * 6, [0] * 6, "2 to 1000 classes"),
        ([[1, 2, 3, 4]] * 6, [0, "a"] * 3, "all integer labels or all class names"),
        ([[1, 2, 3, 4]] * 6, [0.5, 1.5] * 3, "all integer labels or all class names"),
    ],
)
def test_bad_training_data_is_refused(
    model_store: ModelStore, rows: list, targets: list, message: str
) -> None:
    base, kind = training_base(model_store, "iris-tree", None, None)
    with pytest.raises(InvalidInput, match=message):
        check_training_data(base, kind, rows, targets, LIMITS)


def test_svm_needs_three_rows_of_each_class(model_store: ModelStore) -> None:
    base, kind = training_base(model_store, "iris-svm", None, None)
    with pytest.raises(InvalidInput, match="at least 3 rows of each class; class 'virginica' has 2"):
        check_training_data(base, kind, [[1.0, 2, 3, 4]] * 8, [0, 0, 0, 1, 1, 1, 2, 2], LIMITS)


def test_regression_targets_must_be_numbers(model_store: ModelStore) -> None:
    base, kind = training_base(model_store, "diabetes-linreg", None, None)
    with pytest.raises(InvalidInput, match="targets\\[1\\] is not a number"):
        check_training_data(base, kind, [[0.0] * 10] * 2, [1.0, "high"], LIMITS)


def test_limits_on_rows_and_features() -> None:
    small = TrainingLimits(max_rows=5, max_features=3)
    with pytest.raises(TooMuchTrainingData, match="too many rows: 6 > 5"):
        check_training_data(None, Estimator.LINEAR_REGRESSION, [[1.0]] * 6, [1.0] * 6, small)
    with pytest.raises(TooMuchTrainingData, match="too many features: 4 > 3"):
        check_training_data(None, Estimator.LINEAR_REGRESSION, [[1.0] * 4] * 2, [1.0] * 2, small)


def test_what_a_request_builds_on(model_store: ModelStore) -> None:
    with pytest.raises(ModelNotFound, match="send 'estimator'"):
        training_base(model_store, "brand-new", None, None)
    with pytest.raises(ModelNotFound):
        training_base(model_store, "iris-svm", "99", None)
    with pytest.raises(InvalidInput, match="iris-svm@1 is a svm model"):
        training_base(model_store, "iris-svm", None, Estimator.DECISION_TREE)
    with pytest.raises(InvalidInput, match="only scikit-learn models"):
        training_base(model_store, "digits-cnn", None, None)
    with pytest.raises(InvalidInput, match="invalid model name"):
        training_base(model_store, "Bad Name", None, Estimator.SVM)
    assert training_base(model_store, "iris-svm", "1", Estimator.SVM)[0] == model_store.get("iris-svm", "1")


def test_a_csv_table_gives_names_rows_and_targets() -> None:
    text = "a,species,b\n1.5,setosa,2\n 3 ,virginica,4e0\n\n"
    assert read_csv(text, "species") == (
        ["a", "b"], [[1.5, 2.0], [3.0, 4.0]], ["setosa", "virginica"]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("a,b\n1,2\n", "no target column 'target'"),
        ("a,target\n1,2,3\n", "line 2 has 3 columns"),
        ("a,target\nx,2\n", "line 2, column 'a' is not a number"),
        ("a,target\ninf,2\n", "not finite"),
    ],
)
def test_bad_csv_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_csv(text, "target")
