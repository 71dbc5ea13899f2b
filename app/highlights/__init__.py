"""Highlights written by staff for the annual impact report: /highlights and its pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the highlights pages."""
    from .views import bp

    app.register_blueprint(bp)
