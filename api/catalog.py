"""Models: what the store holds, with schemas, classes and versions."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from api.openapi import Blueprint
from api.schemas import ManifestSchema, ModelListSchema, ModelSummarySchema, VersionQuerySchema
from api.services import services
from models.manifest import Manifest

bp = Blueprint("catalog", __name__, url_prefix="/v1/models", description="The models and their versions.")


def _summary(name: str) -> dict[str, Any]:
    store = services().store
    versions = store.versions(name)
    latest: Manifest = store.get(name)
    return {"name": name, "versions": versions, "latest": latest.to_dict()}


@bp.get("")
@bp.response(200, ModelListSchema)
def list_models() -> Response:
    """List the models

    Every model with its versions and latest manifest.
    """
    return jsonify(models=[_summary(name) for name in services().store.names()])


@bp.get("/<name>")
@bp.arguments(VersionQuerySchema, location="query", arg_name="query", error_status_code=400)
@bp.response(
    200,
    {"oneOf": [ModelSummarySchema, ManifestSchema]},
    description="The model's summary; with `?version=`, that version's manifest.",
)
@bp.errors(400, 404)
def get_model(name: str, query: dict[str, Any]) -> Response:
    """Read a model

    Its versions and latest manifest, or with `?version=` that version's manifest.
    """
    if "version" not in query:
        return jsonify(_summary(name))
    return jsonify(services().store.get(name, query["version"]).to_dict())
