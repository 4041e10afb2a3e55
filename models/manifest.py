"""The JSON manifest that describes one version of one model."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"


class Family(str, Enum):
    """How a model is stored and run."""

    SKLEARN = "sklearn"
    TORCH_CNN = "torch-cnn"


class Task(str, Enum):
    """What a model predicts."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"


@dataclasses.dataclass(frozen=True)
class Manifest:
    """Everything predq knows about a model version without loading it.

    ``input_schema`` is ``{"kind": "tabular", "n_features", "feature_names"}``
    for tabular models and ``{"kind": "image", "width", "height", "channels",
    "mean", "std"}`` for image models.
    """

    name: str
    version: str
    family: Family
    task: Task
    input_schema: dict[str, Any]
    artifact: str
    sha256: str
    class_names: list[str] | None = None
    library_versions: dict[str, str] = dataclasses.field(default_factory=dict)
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    created_at: str = ""
    description: str = ""
    # The scikit-learn estimator kind (models.estimators.Estimator), so a new
    # version can be fitted the same way; empty for image models.
    estimator: str = ""
    # The training run (job id) that published this version: a redelivered
    # run finds its version instead of publishing a second one.
    run_id: str = ""

    @property
    def ref(self) -> str:
        """``name@version``, the key a model is cached and reported under."""
        return f"{self.name}@{self.version}"

    @property
    def is_image_model(self) -> bool:
        """True when the model takes images rather than rows of numbers."""
        return self.input_schema.get("kind") == "image"

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON primitives."""
        data = dataclasses.asdict(self)
        data["family"] = self.family.value
        data["task"] = self.task.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """Build a manifest from its JSON form, ignoring unknown keys."""
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["family"] = Family(values["family"])
        values["task"] = Task(values["task"])
        values["version"] = str(values["version"])
        return cls(**values)

    @classmethod
    def draft(cls, **fields: Any) -> Manifest:
        """A manifest for a model about to be published.

        The store fills in version and sha256 when it publishes; the creation
        time and the Python version are recorded here.
        """
        versions = {"python": platform.python_version(), **fields.pop("library_versions", {})}
        return cls(
            version="0",
            sha256="",
            created_at=datetime.now(timezone.utc).isoformat(),
            library_versions=versions,
            **fields,
        )

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """Read the manifest stored in a model version directory."""
        return cls.from_dict(json.loads((directory / MANIFEST_FILE).read_text()))

    def write(self, directory: Path) -> None:
        """Write the manifest into a model version directory."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True)
        (directory / MANIFEST_FILE).write_text(text + "\n")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
