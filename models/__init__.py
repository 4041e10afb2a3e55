"""Model store, manifests, loading and predicting.

This package knows nothing about HTTP, queues or Redis: it turns JSON-ready
inputs into JSON-ready predictions. torch is imported lazily, only by the
modules that need it, so importing this package stays cheap for the API.
"""
from models.errors import (
    IntegrityError,
    InvalidInput,
    ModelError,
    ModelNotFound,
)
from models.manifest import Family, Manifest, Task
from models.store import ModelStore

__all__ = [
    "Family",
    "IntegrityError",
    "InvalidInput",
    "Manifest",
    "ModelError",
    "ModelNotFound",
    "ModelStore",
    "Task",
]
