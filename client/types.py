"""Typed views of the server's job documents and their result items."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any


class JobStatus(str, Enum):
    """Where a job is in its life; the last three are terminal."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """Whether the job will never change again."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclasses.dataclass(frozen=True)
class ErrorDetail:
    """Why a job, or one item of it, failed: the server's ``code`` and ``message``."""

    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class ClassResult:
    """A classifier's answer for one row or image."""

    label: int
    class_name: str
    probabilities: dict[str, float] | None = None

    @property
    def confidence(self) -> float | None:
        """The probability of the predicted class, when the model gives probabilities."""
        return None if self.probabilities is None else self.probabilities.get(self.class_name)


@dataclasses.dataclass(frozen=True)
class ValueResult:
    """A regressor's answer for one row."""

    value: float


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """What a training job published: the new version and its scores."""

    model: str
    version: str
    ref: str
    estimator: str
    metrics: dict[str, Any]


Item = ClassResult | ValueResult | ErrorDetail | TrainingResult


@dataclasses.dataclass(frozen=True)
class Progress:
    """Items (rows or images) finished out of the job's total."""

    done: int
    total: int


@dataclasses.dataclass(frozen=True)
class BatchProgress:
    """How far :meth:`Client.classify_images` is: images uploaded and classified."""

    uploaded: int
    classified: int
    total: int


@dataclasses.dataclass(frozen=True)
class Job:
    """A job as the server last reported it; ``document`` is the JSON it sent."""

    id: str
    model: str
    status: JobStatus
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    progress: Progress
    attempts: int
    result: list[Item | None]  # None: an item not finished yet
    error: ErrorDetail | None
    document: dict[str, Any] = dataclasses.field(repr=False, compare=False)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Job:
        """Parse the server's job document."""
        error = doc.get("error")
        return cls(
            id=doc["id"],
            model=doc["model"],
            status=JobStatus(doc["status"]),
            created_at=_timestamp(doc.get("created_at")),
            started_at=_timestamp(doc.get("started_at")),
            finished_at=_timestamp(doc.get("finished_at")),
            progress=Progress(**doc.get("progress") or {"done": 0, "total": 0}),
            attempts=doc.get("attempts", 0),
            result=[_item(entry) for entry in doc.get("result") or []],
            error=ErrorDetail(error["code"], error["message"]) if error else None,
            document=doc,
        )


@dataclasses.dataclass(frozen=True)
class ImageResult:
    """The classification of one image file, or the error that stopped it."""

    path: Path
    prediction: ClassResult | None
    error: ErrorDetail | None = None

    @property
    def label(self) -> int | None:
        """The predicted label, None when the image failed."""
        return self.prediction.label if self.prediction else None

    @property
    def class_name(self) -> str | None:
        """The predicted class name, None when the image failed."""
        return self.prediction.class_name if self.prediction else None

    @property
    def confidence(self) -> float | None:
        """The probability of the predicted class, None when the image failed."""
        return self.prediction.confidence if self.prediction else None


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _item(entry: dict[str, Any] | None) -> Item | None:
    if entry is None:
        return None
    if "error" in entry:
        return ErrorDetail(entry["error"]["code"], entry["error"]["message"])
    if "value" in entry:
        return ValueResult(entry["value"])
    if "metrics" in entry:
        return TrainingResult(**entry)
    return ClassResult(entry["label"], entry["class_name"], entry.get("probabilities"))
