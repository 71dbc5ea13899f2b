"""Outputs: every kind of research output, the grants credited with it and its links."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints."""
    from .views import bp

    app.register_blueprint(bp)
