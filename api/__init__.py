"""The predq HTTP API: a Flask app factory and one blueprint per resource."""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from api import cache, catalog, compat, health, jobs, metrics, training, web
from api.config import load_config
from api.errors import register_error_handlers
from api.openapi import init_openapi
from api.ratelimit import init_rate_limits
from api.services import Services


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the API. ``config`` overrides what the environment sets."""
    app = Flask(__name__, static_folder=None)
    app.config.update(load_config(os.environ))
    if config:
        app.config.update(config)
    app.json.sort_keys = False
    svc = Services.from_config(app.config)
    app.extensions["predq"] = svc
    register_error_handlers(app)
    metrics.init_metrics(app, svc)
    limiter = init_rate_limits(app, svc)
    if limiter:
        limiter.exempt(health.bp)
        limiter.exempt(metrics.bp)
        limiter.exempt(web.bp)  # the page and its static files, not API calls
    api = init_openapi(app)
    for blueprint in (jobs.bp, catalog.bp, cache.bp, health.bp, compat.bp, metrics.bp, training.bp):
        api.register_blueprint(blueprint)
    # The page is HTML for people, not part of the API the spec describes.
    app.register_blueprint(web.bp)
    return app
