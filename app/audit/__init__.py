"""The audit trail: every change, login, import and download, recorded."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints."""
    from .views import bp

    app.register_blueprint(bp)
