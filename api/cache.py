"""The result cache's counters: hits and misses per model version."""
from __future__ import annotations

from flask import Response, jsonify

from api.openapi import Blueprint
from api.schemas import CacheStatsSchema
from api.services import services

bp = Blueprint("cache", __name__, url_prefix="/v1", description="The result cache.")


@bp.get("/cache")
@bp.response(200, CacheStatsSchema)
@bp.errors(503)
def cache_stats() -> Response:
    """Read the result cache's counters

    Whether the cache is on, its TTL, and hits/misses per `model@version`.
    """
    cache = services().cache
    return jsonify(enabled=cache.enabled, ttl=cache.ttl, models=cache.stats())
