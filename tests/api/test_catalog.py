"""Model listing, health, and the API process staying free of torch."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask.testing import FlaskClient


def test_models_lists_every_model_with_versions_and_schema(client: FlaskClient) -> None:
    models = {m["name"]: m for m in client.get("/v1/models").get_json()["models"]}
    assert set(models) == {"iris-tree", "iris-logreg", "iris-svm", "diabetes-linreg", "digits-cnn"}
    iris = models["iris-svm"]
    assert iris["versions"] == ["1"]
    assert iris["latest"]["input_schema"]["n_features"] == 4
    assert iris["latest"]["class_names"] == ["setosa", "versicolor", "virginica"]


def test_one_model_and_one_version(client: FlaskClient) -> None:
    assert client.get("/v1/models/digits-cnn").get_json()["latest"]["family"] == "torch-cnn"
    manifest = client.get("/v1/models/digits-cnn?version=1").get_json()
    assert manifest["input_schema"]["width"] == 32 and manifest["metrics"]["test_accuracy"] >= 0.9


def test_healthz(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_api_process_never_imports_torch(repo_root: Path) -> None:
    code = "import sys; from api import create_app; create_app(); print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
