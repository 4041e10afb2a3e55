"""Checking JSON input against a model's schema (pure Python: safe for the API)."""
from __future__ import annotations

import math
from typing import Any

from models.errors import InvalidInput
from models.manifest import Manifest


def validate_instances(manifest: Manifest, instances: Any, max_rows: int) -> list[list[float]]:
    """Check JSON ``instances`` against a tabular model's schema.

    Returns the rows as lists of floats; raises InvalidInput naming the first
    offending row and column.
    """
    n_features = manifest.input_schema["n_features"]
    if not isinstance(instances, list) or not instances:
        raise InvalidInput("'instances' must be a non-empty list of rows")
    if len(instances) > max_rows:
        raise InvalidInput(f"too many instances: {len(instances)} > {max_rows}")
    rows = []
    for i, row in enumerate(instances):
        if not isinstance(row, list):
            raise InvalidInput(f"instances[{i}] must be a list of {n_features} numbers")
        if len(row) != n_features:
            raise InvalidInput(
                f"instances[{i}] has {len(row)} features; {manifest.ref} expects {n_features}"
            )
        rows.append([finite_number(value, f"instances[{i}][{j}]") for j, value in enumerate(row)])
    return rows


def finite_number(value: Any, where: str) -> float:
    """A JSON number as a finite float; InvalidInput naming ``where`` otherwise."""
    # bool is an int subclass; True as a feature is a client bug, not 1.0.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{where} is not a number: {value!r:.40}")
    try:
        number = float(value)
    except OverflowError:
        raise InvalidInput(f"{where} is too large") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{where} is not finite: {value!r}")
    return number
