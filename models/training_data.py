"""Checking posted training data: JSON rows and targets, or a CSV table (pure Python).

The API checks everything here before a training job is queued, so a bad
request is a 4xx and never reaches a worker. The checked data travels to
the worker as JSON (:meth:`TrainingData.to_json`).
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from models.errors import InvalidInput, TooMuchTrainingData
from models.estimators import Estimator
from models.manifest import Manifest, Task
from models.validation import finite_number

_INTEGER = re.compile(r"^[+-]?[0-9]+$")


@dataclasses.dataclass(frozen=True)
class TrainingLimits:
    """How much training data one request may carry."""

    max_rows: int = 100_000
    max_features: int = 1_000
    max_classes: int = 1_000


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """Checked rows and targets, and how to fit them.

    For classifiers ``targets`` are class indices into ``class_names``.
    ``base_version`` is the version being retrained (None for a new model).
    ``holdout`` is the fraction of rows held out to score the fit.
    """

    estimator: Estimator
    rows: list[list[float]]
    targets: list[Any]
    feature_names: list[str]
    class_names: list[str] | None = None
    holdout: float = 0.2
    base_version: str | None = None

    def to_json(self) -> bytes:
        """The data as JSON bytes, for the job's stored input."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, blob: bytes) -> TrainingData:
        """The data written by :meth:`to_json`."""
        fields = json.loads(blob)
        return cls(**{**fields, "estimator": Estimator(fields["estimator"])})


def check_training_data(
    base: Manifest | None,
    estimator: Estimator,
    rows: Any,
    targets: Any,
    limits: TrainingLimits,
    feature_names: Sequence[str] | None = None,
    holdout: float = 0.2,
) -> TrainingData:
    """Check rows and targets for fitting ``estimator``; raise InvalidInput otherwise.

    With a ``base`` (a new version of that model) the rows must have its
    feature count and keep its feature names; class labels given as integers
    keep its class names.
    """
    if not isinstance(rows, list) or not rows:
        raise InvalidInput("'rows' must be a non-empty list of rows")
    if len(rows) > limits.max_rows:
        raise TooMuchTrainingData(f"too many rows: {len(rows)} > {limits.max_rows}")
    if not isinstance(targets, list) or len(targets) != len(rows):
        raise InvalidInput(f"'targets' must be a list of {len(rows)} values, one per row")
    width = base.input_schema["n_features"] if base else _width(rows[0])
    if width > limits.max_features:
        raise TooMuchTrainingData(f"too many features: {width} > {limits.max_features}")
    checked = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            got = f"has {len(row)} values" if isinstance(row, list) else "is not a list"
            wanted = f"{base.ref} takes {width}" if base else f"rows[0] has {width}"
            raise InvalidInput(f"rows[{i}] {got}; {wanted}")
        checked.append([finite_number(value, f"rows[{i}][{j}]") for j, value in enumerate(row)])
    if base:
        feature_names = base.input_schema["feature_names"]
    names = list(feature_names or [f"x{j}" for j in range(width)])
    if estimator.task is Task.REGRESSION:
        encoded: list[Any] = [finite_number(_number(t), f"targets[{i}]") for i, t in enumerate(targets)]
        classes = None
    else:
        encoded, classes = _classes(targets, base, estimator, limits)
    return TrainingData(estimator, checked, encoded, names, classes, holdout,
                        base.version if base else None)


def read_csv(text: str, target: str) -> tuple[list[str], list[list[float]], list[str]]:
    """Feature names, rows and raw targets of a CSV table with a header row.

    ``target`` names the target column; every other column is a feature, in
    the order of the header.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise InvalidInput("the CSV file is empty; it needs a header row")
    header = [name.strip() for name in header]
    if target not in header:
        raise InvalidInput(f"the CSV header has no target column {target!r}: {header[:20]}")
    index = header.index(target)
    names = header[:index] + header[index + 1 :]
    rows, targets = [], []
    for line, record in enumerate(reader, start=2):
        if not record:
            continue  # a blank line, usually the last one
        if len(record) != len(header):
            raise InvalidInput(f"CSV line {line} has {len(record)} columns; the header has {len(header)}")
        targets.append(record.pop(index).strip())
        rows.append([_csv_number(value, line, names[j]) for j, value in enumerate(record)])
    return names, rows, targets


def _width(row: Any) -> int:
    if not isinstance(row, list) or not row:
        raise InvalidInput("rows[0] must be a non-empty list of numbers")
    return len(row)


def _csv_number(value: str, line: int, column: str) -> float:
    try:
        return finite_number(float(value), f"CSV line {line}, column {column!r}")
    except ValueError:
        raise InvalidInput(f"CSV line {line}, column {column!r} is not a number: {value[:40]!r}") from None


def _number(value: Any) -> Any:
    """A number, or a string holding one (CSV targets arrive as text)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _classes(
    targets: list[Any], base: Manifest | None, estimator: Estimator, limits: TrainingLimits
) -> tuple[list[int], list[str]]:
    """Class indices and class names of a classifier's targets.

    Targets are class names (strings) or integer labels; text holding
    integers (from a CSV) counts as labels. Labels keep the base model's
    class names where it has them.
    """
    if all(isinstance(t, str) and _INTEGER.match(t) for t in targets):
        targets = [int(t) for t in targets]
    if all(isinstance(t, int) and not isinstance(t, bool) for t in targets):
        labels = sorted(set(targets))
        known = (base.class_names if base else None) or []
        names = [known[label] if 0 <= label < len(known) else str(label) for label in labels]
    elif all(isinstance(t, str) for t in targets):
        labels = names = sorted(set(targets))
    else:
        raise InvalidInput("a classifier's targets must be all integer labels or all class names")
    if not 2 <= len(labels) <= limits.max_classes:
        raise InvalidInput(f"a classifier needs 2 to {limits.max_classes} classes; got {len(labels)}")
    index = {label: i for i, label in enumerate(labels)}
    encoded = [index[t] for t in targets]
    counts = [0] * len(labels)
    for i in encoded:
        counts[i] += 1
    fewest = min(counts)
    if fewest < estimator.min_rows_per_class:
        raise InvalidInput(
            f"{estimator.value} needs at least {estimator.min_rows_per_class} rows of each "
            f"class; class {names[counts.index(fewest)]!r} has {fewest}"
        )
    return encoded, names
