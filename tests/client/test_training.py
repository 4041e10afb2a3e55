"""client.train: queuing a fit over HTTP, and reading what a training job published.

The client's server has no training worker (fits that publish are tested in
tests/integration/test_training.py), so an accepted fit stays queued here.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from client import Client, InvalidRequest, Job, JobStatus, NotFound, TrainingResult

pytestmark = pytest.mark.integration
ROWS = [[5.1, 3.5, 1.4, 0.2], [4.9, 3.0, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [6.3, 2.5, 5.0, 1.9]]


def test_train_queues_a_job_from_rows_or_a_csv_file(predq: Client, tmp_path: Path) -> None:
    job = predq.train("iris-tree", ROWS, ["setosa", "setosa", "virginica", "virginica"])
    assert job.status is JobStatus.QUEUED and job.model == "iris-tree"
    table = tmp_path / "iris.csv"
    table.write_text("a,b,c,d,species\n" + "".join(
        f"{','.join(map(str, row))},{label}\n" for row, label in zip(ROWS, [0, 0, 2, 2])
    ))  # fmt: skip
    queued = predq.train("iris-tree", csv=table, target="species", holdout=0)
    assert queued.status is JobStatus.QUEUED and queued.progress.total == 1


def test_refused_training_raises_with_the_servers_message(predq: Client) -> None:
    with pytest.raises(InvalidRequest, match="iris-tree@1 takes 4"):
        predq.train("iris-tree", [[1.0, 2.0]] * 4, [0, 1, 0, 1])
    with pytest.raises(NotFound, match="send 'estimator'"):
        predq.train("no-such-model", ROWS, [0, 0, 1, 1])
    with pytest.raises(ValueError):
        predq.train("iris-tree", ROWS)


def test_a_finished_training_job_carries_a_training_result() -> None:
    outcome = {
        "model": "iris-svm", "version": "2", "ref": "iris-svm@2", "estimator": "svm",
        "metrics": {"train_accuracy": 0.98, "test_accuracy": 0.97, "n_train": 120, "n_test": 30},
    }  # fmt: skip
    document = {
        "id": "j", "model": "iris-svm", "status": "succeeded", "progress": {"done": 1, "total": 1},
        "result": [outcome], "error": None,
    }  # fmt: skip
    (result,) = Job.from_document(document).result
    assert result == TrainingResult(**outcome)
