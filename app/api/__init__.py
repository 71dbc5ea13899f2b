"""Read-only JSON API under /api/v1 for integrations, with token authentication."""

from __future__ import annotations

from flask import Flask

from app.extensions import csrf


def init_app(app: Flask) -> None:
    """Register the API blueprint (its JSON error handlers come with it)."""
    from .views import bp, routing_error

    app.before_request(routing_error)
    # Nothing under /api/v1 changes anything, and tokens are not cookies: no CSRF to guard.
    csrf.exempt(bp)
    app.register_blueprint(bp)
