"""Downstream impact: the outputs and trials a programme, institution, fund or donor reached."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the impact blueprint."""
    from .views import bp

    app.register_blueprint(bp)
