"""The kinds of scikit-learn estimator predq can fit (pure Python: safe for the API)."""
from __future__ import annotations

from enum import Enum

from models.errors import InvalidInput, ModelNotFound
from models.manifest import Family, Manifest, Task
from models.store import ModelStore, is_valid_name


class Estimator(str, Enum):
    """An estimator kind: what a manifest records and a training request names."""

    DECISION_TREE = "decision_tree"
    LOGISTIC_REGRESSION = "logistic_regression"
    SVM = "svm"
    LINEAR_REGRESSION = "linear_regression"

    @property
    def task(self) -> Task:
        """What models of this kind predict."""
        return Task.REGRESSION if self is Estimator.LINEAR_REGRESSION else Task.CLASSIFICATION

    @property
    def min_rows_per_class(self) -> int:
        """Fewest rows of each class a fit needs.

        The SVM's probabilities are calibrated by cross-validation, which
        needs at least two rows of each class left after the held-out split.
        """
        return 3 if self is Estimator.SVM else 1


# The seeds' estimators, for manifests published before manifests named their kind.
SEED_ESTIMATORS = {
    "iris-tree": Estimator.DECISION_TREE,
    "iris-logreg": Estimator.LOGISTIC_REGRESSION,
    "iris-svm": Estimator.SVM,
    "diabetes-linreg": Estimator.LINEAR_REGRESSION,
}


def estimator_of(manifest: Manifest) -> Estimator:
    """The kind of estimator a stored model version is; InvalidInput if it has none."""
    if manifest.family is not Family.SKLEARN:
        raise InvalidInput(f"{manifest.ref} is a {manifest.family.value} model; only "
                           "scikit-learn models can be trained from rows")
    if manifest.estimator:
        return Estimator(manifest.estimator)
    if manifest.name in SEED_ESTIMATORS:
        return SEED_ESTIMATORS[manifest.name]
    raise InvalidInput(f"{manifest.ref} does not record its estimator kind; cannot retrain it")


def training_base(
    store: ModelStore, name: str, version: str | None, estimator: Estimator | None
) -> tuple[Manifest | None, Estimator]:
    """What a training request for ``name`` builds on: the version it retrains
    (None for a new model) and the estimator kind to fit.

    An existing model is retrained as the kind it is; a new one needs
    ``estimator``.
    """
    try:
        base = store.get(name, version)
    except ModelNotFound:
        if version is not None or estimator is None:
            raise ModelNotFound(
                f"no model {name!r}{f' version {version!r}' if version else ''}; "
                "to create a new model, send 'estimator' without 'version'"
            ) from None
        if not is_valid_name(name):
            raise InvalidInput(f"invalid model name {name!r}: use a-z, 0-9, '.', '_', '-'") from None
        return None, estimator
    kind = estimator_of(base)
    if estimator is not None and estimator is not kind:
        raise InvalidInput(f"{base.ref} is a {kind.value} model; leave out 'estimator' or send {kind.value!r}")
    return base, kind
