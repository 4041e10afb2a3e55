"""Models: what the store holds, with schemas, classes and versions."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from api.services import services
from models.manifest import Manifest

bp = Blueprint("catalog", __name__, url_prefix="/v1/models")


def _summary(name: str) -> dict[str, Any]:
    store = services().store
    versions = store.versions(name)
    latest: Manifest = store.get(name)
    return {"name": name, "versions": versions, "latest": latest.to_dict()}


@bp.get("")
def list_models() -> Response:
    """Every model with its versions and latest manifest."""
    return jsonify(models=[_summary(name) for name in services().store.names()])


@bp.get("/<name>")
def get_model(name: str) -> Response:
    """One model: its latest manifest, or ``?version=`` 's."""
    version = request.args.get("version")
    if version is None:
        return jsonify(_summary(name))
    return jsonify(services().store.get(name, version).to_dict())
