"""Administration: user accounts, their roles, passwords and lockouts."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this feature's blueprints."""
    from . import tokens  # noqa: F401  (adds the API token pages to bp)
    from .views import bp

    app.register_blueprint(bp)
