"""The result cache's counters: hits and misses per model version."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from api.services import services

bp = Blueprint("cache", __name__, url_prefix="/v1")


@bp.get("/cache")
def cache_stats() -> Response:
    """Whether the cache is on, its TTL, and hits/misses per ``model@version``."""
    cache = services().cache
    return jsonify(enabled=cache.enabled, ttl=cache.ttl, models=cache.stats())
