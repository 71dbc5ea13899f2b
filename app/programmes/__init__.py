"""Programmes (calls and schemes) and research areas (tags)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the programmes and research areas blueprints."""
    from .views import areas_bp, bp

    app.register_blueprint(bp)
    app.register_blueprint(areas_bp)
