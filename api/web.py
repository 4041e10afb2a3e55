"""The batch image-classification page at ``/``: static HTML, CSS and JS.

The page is a client of the public API like any other (catalog, submit,
long-poll); the server only tells it what it cannot discover by itself:
whether job routes need an API key, and the default image model. The page
needs no key to load, so this blueprint has no ``authenticate`` hook.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template

from api.auth import AuthMode
from api.services import services

bp = Blueprint(
    "web", __name__, static_folder="static", static_url_path="/web", template_folder="templates"
)

# Scripts, styles and requests only from this origin; thumbnails are blob: URLs
# of the user's own files.
_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@bp.get("/")
def index() -> Response:
    """The page: drop a folder of images, watch the jobs, download a CSV."""
    page = render_template(
        "web/index.html",
        auth_required=services().keys.mode is AuthMode.KEYS,
        default_model=current_app.config["PREDQ_DEFAULT_IMAGE_MODEL"],
    )
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _CSP
    return response
