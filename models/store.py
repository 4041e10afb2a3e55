"""A directory of named, versioned models: ``<root>/<name>/<version>/``."""
from __future__ import annotations

import dataclasses
import errno
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from models.errors import IntegrityError, ModelNotFound
from models.manifest import MANIFEST_FILE, Manifest, sha256_of

# Names and versions come from URLs: the pattern keeps them inside the store.
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_VERSION = re.compile(r"^[0-9]{1,9}$")


def is_valid_name(name: str) -> bool:
    """True for a name a model may be published under."""
    return bool(_NAME.match(name))


class ModelStore:
    """Reads and publishes model versions under one root directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def names(self) -> list[str]:
        """Names of all models that have at least one version."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if self._versions_in(p))

    def versions(self, name: str) -> list[str]:
        """Versions of a model, oldest first; raises ModelNotFound if none."""
        versions = self._versions_in(self.root / name) if _NAME.match(name) else []
        if not versions:
            raise ModelNotFound(f"no model named {name!r}")
        return versions

    def get(self, name: str, version: str | None = None) -> Manifest:
        """The manifest of ``name@version``, or of the latest version."""
        versions = self.versions(name)
        if version is None:
            version = versions[-1]
        elif version not in versions:
            raise ModelNotFound(f"model {name!r} has no version {version!r}")
        return Manifest.read(self.root / name / version)

    def list(self) -> list[Manifest]:
        """The manifests of every version of every model."""
        return [self.get(n, v) for n in self.names() for v in self.versions(n)]

    def is_empty(self) -> bool:
        """True when the store holds no model at all."""
        return not self.names()

    def artifact_path(self, manifest: Manifest) -> Path:
        """Path of a model's artifact after checking it against the manifest."""
        path = self.root / manifest.name / manifest.version / manifest.artifact
        if not path.is_file():
            raise IntegrityError(f"{manifest.ref}: artifact {manifest.artifact} is missing")
        actual = sha256_of(path)
        if actual != manifest.sha256:
            raise IntegrityError(
                f"{manifest.ref}: artifact sha256 {actual} does not match the "
                f"manifest's {manifest.sha256}; refusing to load it"
            )
        return path

    def find_run(self, name: str, run_id: str) -> Manifest | None:
        """The version of ``name`` that training run ``run_id`` published, if any."""
        model_dir = self.root / name
        for version in self._versions_in(model_dir) if _NAME.match(name) else []:
            manifest = Manifest.read(model_dir / version)
            if manifest.run_id == run_id:
                return manifest
        return None

    def publish(self, draft: Manifest, write_artifact: Callable[[Path], None]) -> Manifest:
        """Store a new version of ``draft.name`` and return its manifest.

        ``write_artifact`` writes the model file to the path it is given; the
        version number and sha256 are filled in here. The version directory
        appears atomically, so readers never see a half-written model, and
        concurrent publishers (threads or processes on one file system) each
        get their own version number.
        """
        if not _NAME.match(draft.name):
            raise ValueError(f"invalid model name {draft.name!r}")
        model_dir = self.root / draft.name
        model_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=model_dir))
        try:
            write_artifact(staging / draft.artifact)
            draft = dataclasses.replace(draft, sha256=sha256_of(staging / draft.artifact))
            while True:
                manifest = dataclasses.replace(draft, version=self._next_version(model_dir))
                manifest.write(staging)
                try:
                    # rename(2) will not replace a non-empty directory: of two
                    # publishers that chose the same number, one fails here and
                    # takes the next number instead of overwriting.
                    staging.rename(model_dir / manifest.version)
                    return manifest
                except OSError as exc:
                    if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    @staticmethod
    def _next_version(model_dir: Path) -> str:
        # Every numbered directory counts, even one without a manifest yet,
        # so a number is never reused.
        taken = [int(p.name) for p in model_dir.iterdir() if _VERSION.match(p.name)]
        return str(max(taken, default=0) + 1)

    @staticmethod
    def _versions_in(model_dir: Path) -> list[str]:
        if not model_dir.is_dir():
            return []
        found = [
            p.name
            for p in model_dir.iterdir()
            if _VERSION.match(p.name) and (p / MANIFEST_FILE).is_file()
        ]
        return sorted(found, key=int)
