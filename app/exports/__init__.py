"""Exports: the registers for use outside grantpath (CLI) and every list page as CSV/XLSX."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the list downloads."""
    from .views import bp

    app.register_blueprint(bp)
