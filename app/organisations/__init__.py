"""Organisations and people: the institutions and researchers behind the grants."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the organisations and people blueprints."""
    from .views import bp, people_bp

    app.register_blueprint(bp)
    app.register_blueprint(people_bp)
