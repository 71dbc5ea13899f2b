"""Imports of grants, outputs, links and donations from CSV and XLSX, with a dry run."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
