"""Tabular input checks shared by the API."""
from __future__ import annotations

from typing import Any

import pytest

from models import InvalidInput, ModelStore
from models.validation import validate_instances


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ([], "non-empty"),
        ("1,2,3,4", "non-empty list"),
        ([[1, 2, 3]], "has 3 features"),
        ([[1, 2, 3, "x"]], r"instances\[0\]\[3\] is not a number"),
        ([[1, 2, 3, True]], "not a number"),
        ([[1, 2, 3, None]], "not a number"),
        ([[1, 2, 3, float("nan")]], "not finite"),
        ([[1, 2, 3, float("inf")]], "not finite"),
        ([[1, 2, 3, 10**400]], "too large"),
        ([[1, 2, 3, 4], 5], r"instances\[1\] must be a list"),
        ([[1, 2, 3, 4]] * 11, "too many instances"),
    ],
)
def test_bad_instances_are_rejected_with_a_precise_message(
    model_store: ModelStore, instances: Any, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_instances(model_store.get("iris-tree"), instances, max_rows=10)


def test_good_instances_become_floats(model_store: ModelStore) -> None:
    rows = validate_instances(model_store.get("iris-tree"), [[5, 3.5, 1.4, 0.2]], max_rows=10)
    assert rows == [[5.0, 3.5, 1.4, 0.2]]
