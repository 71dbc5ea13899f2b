"""Funds, donors, donations and the allocation of funds to grants."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the funds, donors and donations blueprints."""
    from .views import donations_bp, donors_bp, funds_bp

    app.register_blueprint(funds_bp)
    app.register_blueprint(donors_bp)
    app.register_blueprint(donations_bp)
